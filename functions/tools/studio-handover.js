// The tool an AI agent calls when it cannot help: it hands the customer's conversation to a human
// agent through a Studio flow, the handoff flow of Twilio Agent Connect, with TAC's HandoffData as the
// flow's data, so that one flow serves TAC and the AI agent alike. The handoff itself (claim, retries,
// answers) is the one every handover tool shares: assets/tools/handoff.private.js.
// Its contract: README.md, "The function's contract". Its version and every value Python owns (limits,
// messages, the configuration variables) are in assets/tools/contract.private.js, generated from
// py/handover/contract.py; the handler hands them to the helpers.

/**
 * @param {import('@twilio-labs/serverless-runtime-types/types').Context} context
 * @param {Record<string, unknown>} event
 * @param {import('@twilio-labs/serverless-runtime-types/types').ServerlessCallback} callback
 */
exports.handler = async function (context, event, callback) {
  const startedAt = Date.now();
  // Assets are found through the runtime, never by a relative path, which differs once deployed.
  const assets = Runtime.getAssets();
  const contract = require(assets['/tools/contract.js'].path);
  const handover = require(assets['/tools/handover.js'].path)(contract);
  const handoff = require(assets['/tools/handoff.js'].path);
  return callback(null, await handoff.respond({ Twilio, handover, tool: STUDIO_EXECUTION, context, event, startedAt }));
};

/** What this tool delivers: an execution of the Studio handoff flow, which hands the conversation to Flex. */
const STUDIO_EXECUTION = {
  name: 'studio-handover',
  sidName: 'executionSid',
  delivering: 'Starting the Studio handoff flow',
  api: 'Studio Executions API',
  routeOf: (config) => `flow ${config.flowSid}`,
  build: (run) => run.handover.buildExecution(run),
  deliver: ({ client, config }, request) => client.studio.v2.flows(config.flowSid).executions.create(request),
  find: findExecution,
  // Studio's 404: there is no such flow, or no published revision of it to run.
  fixFor: (error, { handover, config }) =>
    error.status === 404
      ? `The flow ${config.flowSid} is missing or not published: run \`${handover.contract.STUDIO_DEPLOY_COMMAND}\`, then call again.`
      : '',
};

/**
 * The execution of this very handoff, when the create's answer was lost: among the flow's recent
 * executions for this customer, the one whose HandoffData names this conversation and this moment;
 * undefined when there is none. A failed search throws, so that nothing is started while unknown.
 */
async function findExecution({ handover, client, config, session, handoff }, request) {
  const executions = client.studio.v2.flows(config.flowSid).executions;
  const recent = await executions.list(handover.executionSearchOf(handoff));
  const candidates = recent.filter((execution) => execution.contactChannelAddress === request.to);
  const contexts = await Promise.all(candidates.map((execution) => executions(execution.sid).executionContext().fetch()));
  const found = contexts.find((fetched) => handover.isExecutionOf(fetched.context, { session, handoff }));
  return found ? { sid: found.executionSid } : undefined;
}
