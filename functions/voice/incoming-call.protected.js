// The voice URL of a voice AI's number: the caller is connected to the AI over ConversationRelay, and the session's
// end goes where the chosen path needs (the kit's /voice/connect-action, or the Studio handoff flow's incomingCall
// trigger): assets/voice/relay.private.js. Protected, so that only Twilio reaches it once deployed; the signature is
// checked here too, since the local runtime does not check it.

/**
 * @param {import('@twilio-labs/serverless-runtime-types/types').Context} context
 * @param {Record<string, unknown>} event
 * @param {import('@twilio-labs/serverless-runtime-types/types').ServerlessCallback} callback
 */
exports.handler = async function (context, event, callback) {
  const assets = Runtime.getAssets();
  const contract = require(assets['/tools/contract.js'].path);
  const handover = require(assets['/tools/handover.js'].path)(contract);
  const voice = require(assets['/voice/relay.js'].path);
  // The service's twilio library (package.json), whose TwiML has <ConversationRelay>; the runtime's is older.
  const { VoiceResponse } = require('twilio').twiml;
  return callback(null, voice.respondToCall({ Twilio, VoiceResponse, handover, context, event }));
};
