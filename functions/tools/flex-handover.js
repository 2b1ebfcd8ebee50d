// The tool an AI agent calls when it cannot help: it hands the customer's conversation to a human
// agent in Flex through the Interactions API, so the customer stays in the same chat. The handoff
// itself (claim, retries, answers) is the one every handover tool shares: assets/tools/handoff.private.js.
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
  return callback(null, await handoff.respond({ Twilio, handover, tool: FLEX_INTERACTION, context, event, startedAt }));
};

/** What this tool delivers: a Flex interaction, whose task a human agent receives. */
const FLEX_INTERACTION = {
  name: 'flex-handover',
  sidName: 'interactionSid',
  delivering: 'Creating the Flex interaction',
  api: 'Interactions API',
  routeOf: (config) => `workflow ${config.workflowSid}`,
  build: (run) => run.handover.buildInteraction(run),
  deliver: ({ client }, request) => client.flexApi.v1.interaction.create(request),
  find: findInteraction,
  // Flex takes the conversation as it is: the bot's webhooks must go, or the bot answers beside the agent.
  silencesBot: true,
};

/**
 * The interaction of this very handoff, found through its task, when the create's answer was lost;
 * undefined when there is none. A failed search throws, so that nothing is created while unknown.
 */
async function findInteraction({ handover, client, config, session, handoff }) {
  const tasks = await client.taskrouter.v1.workspaces(config.workspaceSid).tasks.list({
    evaluateTaskAttributes: handover.taskSearchOf({ session, handoff }),
    limit: 1,
  });
  const sid = tasks.length ? JSON.parse(tasks[0].attributes).flexInteractionSid : undefined;
  return sid ? { sid } : undefined;
}
