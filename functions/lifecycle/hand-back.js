// The agent's Return to AI: a Flex plugin's button on an accepted messaging task calls it, and the customer's
// conversation goes back to the AI at once, as at the end of the task (assets/lifecycle/handback.private.js,
// `respondToAgent`): the same hand-back, with reason `agent` and the worker who asked, once per task with
// TaskRouter's events (the task's wrap-up after it answers already_handed_back).
//
// Public: the agent's Flex token is its credential (`Token` in the body, JSON or form, as Flex plugins send it,
// beside `TaskSid`), validated with Twilio's IAM by twilio-flex-token-validator; the token's worker must be the
// agent of the task's accepted reservation, or the token a supervisor's or an admin's. Its answers: 200
// handed_back, already_handed_back, recorded or ignored; 400 for a TaskSid that is not one; 401 for a missing or
// invalid token (no other request); 403 for another agent's task; 404 for a task the workspace lacks; 503
// retryable.
//
// Completing the agent's side as Flex expects (the task wrapped up and completed through the Interactions API, the
// agent's participant closed) is the plugin's job, not this function's: it hands the customer back only.

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
  const { validator } = require('twilio-flex-token-validator');
  return callback(null, await handback.respondToAgent({ Twilio, handover, steps, validateToken: validator, context, event, startedAt }));
};
