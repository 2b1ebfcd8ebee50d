// TaskRouter's event callback (the workspace's EventCallbackUrl): at the end of a task a handover tool created,
// or Twilio Agent Connect's Studio flow, the customer's conversation goes back to the AI:
// assets/lifecycle/handback.private.js. Protected, so that only
// Twilio reaches it once deployed; the signature is checked here too, since the local runtime does not check it.

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
  const handback = require(assets['/lifecycle/handback.js'].path);
  return callback(null, await handback.respond({ Twilio, handover, steps, context, event, startedAt }));
};
