// Tasks as the kit's functions really write them, for the components' tests: the attributes come from the kit's own
// code (assets/tools/handover.private.js, with the contract `handover generate` made from py/handover/contract.py),
// not from a copy of their shape. The handoff object is the one assets/tools/handoff.private.js builds from the
// tool's request, its texts cut by the tool's own parseContext.
const path = require('path');

const assets = path.resolve(__dirname, '../../../assets/tools');
const contract = require(path.join(assets, 'contract.private.js'));
const handover = require(path.join(assets, 'handover.private.js'))(contract);
const relay = require(path.resolve(__dirname, '../../../assets/voice/relay.private.js'));

const SERVICE_SID = `IS${'a'.repeat(32)}`;
const CONVERSATION_SID = `CH${'b'.repeat(32)}`;
const TASK_SID = `WT${'c'.repeat(32)}`;
const REQUESTED_AT = '2026-12-07T14:00:00.000Z';
const config = {
  workspaceSid: `WS${'d'.repeat(32)}`,
  workflowSid: `WW${'e'.repeat(32)}`,
  taskChannel: 'chat',
  staticAttributes: { department: 'support' },
  fromAddress: '+15005550001',
};
const session = { serviceSid: SERVICE_SID, conversationSid: CONVERSATION_SID };

function handoffOf(request, source) {
  const said = handover.parseContext(request);
  if (!said.ok) throw new Error(`the tool refuses this request: ${JSON.stringify(said)}`);
  return { reason: said.reason, summary: said.summary, source, requestedAt: REQUESTED_AT };
}

/** A Flex task (ITask's fields a plugin reads) with these attributes. */
function flexTask(attributes, overrides = {}) {
  return {
    sid: 'WR' + 'f'.repeat(32),
    taskSid: TASK_SID,
    status: 'accepted',
    taskChannelUniqueName: 'chat',
    dateCreated: new Date(REQUESTED_AT),
    attributes,
    ...overrides,
  };
}

/** The direct path's task (flex-handover's Interaction): its routing attributes. */
function directTask(request, { identity = '+15551234567', customerName, ...overrides } = {}) {
  const interaction = handover.buildInteraction({
    config,
    session,
    identity: handover.parseIdentity(identity),
    customerName,
    handoff: handoffOf(request, '/tools/flex-handover'),
  });
  return flexTask(interaction.routing.properties.attributes, overrides);
}

/** The Studio path's messaging task: the attributes studio/agent-handoff.json gives Send to Flex (messaging_attributes). */
function studioTask(request, { identity = '+15551234567', ...overrides } = {}) {
  const parsed = handover.parseIdentity(identity);
  const execution = handover.buildExecution({ config, session, identity: parsed, handoff: handoffOf(request, '/tools/studio-handover') });
  const { HandoffData } = execution.parameters;
  return flexTask(
    { ...config.staticAttributes, name: parsed.address, customerAddress: parsed.address, conversationSid: CONVERSATION_SID, handoffData: HandoffData },
    overrides
  );
}

/**
 * Twilio Agent Connect's messaging handoff through the flow (messaging_attributes): TAC's own HandoffData, whose
 * conversationId is its Conversation Orchestrator conversation, beside the Classic conversation the flow resumed.
 */
function tacMessagingTask(handoffData, overrides = {}) {
  return flexTask(
    { ...config.staticAttributes, name: '+15005550009', customerAddress: '+15005550009', conversationSid: CONVERSATION_SID, handoffData },
    overrides
  );
}

/** Twilio Agent Connect's voice handoff through the flow (call_attributes): TAC's own HandoffData, no requestedAt. */
function tacCallTask(handoffData, overrides = {}) {
  return flexTask(
    {
      ...config.staticAttributes,
      type: 'inbound',
      name: '+15005550009',
      customerAddress: '+15005550009',
      callSid: `CA${'1'.repeat(32)}`,
      channelType: 'voice',
      handoffData,
    },
    { taskChannelUniqueName: 'voice', ...overrides }
  );
}

/**
 * The direct voice path's task (functions/voice/connect-action's <Enqueue><Task>): the attributes the voice path's
 * own taskAttributesOf writes for a call its AI handed off.
 */
function voiceTask(request, overrides = {}) {
  const event = { CallSid: `CA${'2'.repeat(32)}`, From: '+15551230000', To: '+15005550006' };
  const { attributes } = relay.taskAttributesOf(handover, { config, event, handoff: handoffOf(request, '/voice/connect-action') });
  return flexTask(attributes, { taskChannelUniqueName: 'voice', ...overrides });
}

module.exports = { contract, directTask, studioTask, voiceTask, tacMessagingTask, tacCallTask, flexTask, REQUESTED_AT, TASK_SID, CONVERSATION_SID };
