'use strict';
// The hand-back to Twilio Agent Connect: which TaskRouter events end a task of TAC's Studio handoff flow.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const contract = require('../../../assets/tools/contract.private.js');
const { tacEndingOf } = require('../../../assets/lifecycle/handback.private.js');

const TASK = `WT${'1'.repeat(32)}`;
const CONVERSATION = `CH${'2'.repeat(32)}`;
const ORCHESTRATED = 'conv_conversation_01k6fc25s7epm9qtk8rszbv3q6';
// As the flow's messaging_to_flex writes them (py/handover/studio/templates/agent-handoff.json.j2), Flex's beside.
const TAC_ATTRIBUTES = {
  name: '+15551230002',
  customerAddress: '+15551230002',
  conversationSid: CONVERSATION,
  handoffData: { conversationId: ORCHESTRATED, storeId: 'mem_store_x', profileId: 'mem_profile_y', attributes: { reason: 'refund' } },
  channelType: 'sms',
};

function eventOf(type, attributes = TAC_ATTRIBUTES, extra = {}) {
  return { EventType: type, TaskSid: TASK, TaskAttributes: JSON.stringify(attributes), ...extra };
}

describe('tacEndingOf', () => {
  it("reads the end of a TAC task: its kind, the Classic and the Orchestrator conversations, the agent, the outcome", () => {
    const event = eventOf('task.completed', TAC_ATTRIBUTES, { WorkerSid: `WK${'4'.repeat(32)}`, WorkerName: 'Alice', TaskCompletedReason: 'resolved' });
    assert.deepEqual(tacEndingOf(event, contract), {
      ok: true,
      kind: 'completed',
      taskSid: TASK,
      session: { serviceSid: null, conversationSid: CONVERSATION },
      orchestratorConversationId: ORCHESTRATED,
      requestedAt: null,
      worker: { sid: `WK${'4'.repeat(32)}`, name: 'Alice' },
      outcome: 'resolved',
    });
    const canceled = tacEndingOf(eventOf('task.canceled', TAC_ATTRIBUTES, { TaskCanceledReason: 'Task canceled on Workflow timeout' }), contract);
    assert.deepEqual([canceled.kind, canceled.outcome, canceled.worker], ['canceled', 'Task canceled on Workflow timeout', null]);
  });

  it('is null for other events, unparsed attributes, the kit’s own tasks and tasks of no TAC conversation', () => {
    const others = [
      eventOf('task.created'),
      { ...eventOf('task.wrapup'), TaskAttributes: '{not json' },
      eventOf('task.wrapup', { ...TAC_ATTRIBUTES, handoff: { requestedAt: '2026-01-02T03:04:05.000Z' } }),
      eventOf('task.wrapup', { ...TAC_ATTRIBUTES, handoffData: { conversationId: CONVERSATION } }),
      eventOf('task.wrapup', { ...TAC_ATTRIBUTES, handoffData: null }),
      eventOf('task.wrapup', { ...TAC_ATTRIBUTES, conversationSid: undefined }),
      eventOf('task.wrapup', null),
    ];
    for (const event of others) assert.equal(tacEndingOf(event, contract), null, event.TaskAttributes);
  });
});
