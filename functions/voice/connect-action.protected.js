// The <Connect action> URL of a voice AI's call: when its ConversationRelay session ends, a caller the AI handed off
// is enqueued to Flex with the AI's reason and summary, any other caller hears the configured goodbye:
// assets/voice/relay.private.js. Protected, so that only Twilio reaches it once deployed; the signature is
// checked here too, since the local runtime does not check it.

/**
 * @param {import('@twilio-labs/serverless-runtime-types/types').Context} context
 * @param {Record<string, unknown>} event
 * @param {import('@twilio-labs/serverless-runtime-types/types').ServerlessCallback} callback
 */
exports.handler = async function (context, event, callback) {
  const startedAt = Date.now();
  const assets = Runtime.getAssets();
  const contract = require(assets['/tools/contract.js'].path);
  const handover = require(assets['/tools/handover.js'].path)(contract);
  const steps = require(assets['/tools/handoff.js'].path);
  const voice = require(assets['/voice/relay.js'].path);
  // The service's twilio library (package.json) for the TwiML, as incoming-call uses it.
  const { VoiceResponse } = require('twilio').twiml;
  return callback(null, await voice.respond({ Twilio, VoiceResponse, handover, steps, context, event, startedAt }));
};
