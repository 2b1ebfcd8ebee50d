'use strict';
// The hand-back's pure helpers: which TaskRouter events end a task of the kit's, what the conversation says of
// the handoff, and how the hand-back is recorded; and the signature check every function Twilio calls shares.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const contract = require('../../../assets/tools/contract.private.js');
const handover = require('../../../assets/tools/handover.private.js')(contract);
const { taskEndingOf, handoffStateOf, handedBackAttributes } = require('../../../assets/lifecycle/handback.private.js');

const TASK = `WT${'1'.repeat(32)}`;
const CONVERSATION = `CH${'2'.repeat(32)}`;
const SERVICE = `IS${'3'.repeat(32)}`;
const REQUESTED_AT = '2026-01-02T03:04:05.000Z';
const ATTRIBUTES = JSON.stringify({
  conversationSid: CONVERSATION,
  conversationServiceSid: SERVICE,
  handoff: { reason: 'refund', summary: '', source: '/tools/flex-handover', requestedAt: REQUESTED_AT },
});

function eventOf(type, extra = {}) {
  return { EventType: type, TaskSid: TASK, TaskAttributes: ATTRIBUTES, ...extra };
}

describe('taskEndingOf', () => {
  it("reads the end of a kit's task: its kind, the conversation, the handoff it ends, the agent and the outcome", () => {
    const event = eventOf('task.completed', { WorkerSid: `WK${'4'.repeat(32)}`, WorkerName: 'Alice', TaskCompletedReason: 'resolved' });
    assert.deepEqual(taskEndingOf(event, contract), {
      ok: true,
      kind: 'completed',
      taskSid: TASK,
      session: { serviceSid: SERVICE, conversationSid: CONVERSATION },
      requestedAt: REQUESTED_AT,
      worker: { sid: `WK${'4'.repeat(32)}`, name: 'Alice' },
      outcome: 'resolved',
    });
  });

  it('names the wrap-up and the cancelation, with the reason TaskRouter gives', () => {
    assert.equal(taskEndingOf(eventOf('task.wrapup'), contract).kind, 'wrapup');
    const canceled = taskEndingOf(eventOf('task.canceled', { TaskCanceledReason: 'Task TTL Exceeded' }), contract);
    assert.deepEqual([canceled.kind, canceled.outcome, canceled.worker], ['canceled', 'Task TTL Exceeded', null]);
  });

  it('ignores the events that end no task', () => {
    for (const type of ['task.created', 'reservation.accepted', 'worker.activity.update', undefined]) {
      assert.ok(taskEndingOf(eventOf(type), contract).ignored, type);
    }
  });

  it('ignores a task no handover tool created', () => {
    const foreign = { ...eventOf('task.completed'), TaskAttributes: JSON.stringify({ conversationSid: CONVERSATION }) };
    assert.deepEqual(taskEndingOf(foreign, contract), { ignored: 'the task was not created by a handover tool' });
    const noService = JSON.stringify({ conversationSid: CONVERSATION, handoff: { requestedAt: REQUESTED_AT } });
    assert.ok(taskEndingOf({ ...eventOf('task.completed'), TaskAttributes: noService }, contract).ignored);
  });

  it('answers 400 for task attributes that are not JSON', () => {
    const broken = taskEndingOf({ ...eventOf('task.wrapup'), TaskAttributes: '{not json' }, contract);
    assert.deepEqual([broken.ok, broken.statusCode, broken.body], [false, 400, { status: 'failed', error: 'TaskAttributes is not JSON.' }]);
  });
});

describe('handoffStateOf', () => {
  const ending = taskEndingOf(eventOf('task.completed'), contract);

  it("is current when the conversation records this task's handoff", () => {
    assert.equal(handoffStateOf({ handedOff: true, handedOffAt: REQUESTED_AT }, ending), 'current');
  });

  it('is other when it records a later handoff, or none (handed back already)', () => {
    assert.equal(handoffStateOf({ handedOff: true, handedOffAt: '2026-01-02T05:00:00.000Z' }, ending), 'other');
    assert.equal(handoffStateOf({ handedBack: { taskSid: TASK } }, ending), 'other');
  });
});

describe('handedBackAttributes', () => {
  it("takes the handoff's record away, records the hand-back and keeps the rest", () => {
    const ending = taskEndingOf(eventOf('task.wrapup', { WorkerSid: `WK${'4'.repeat(32)}`, WorkerName: 'Alice' }), contract);
    const attributes = { topic: 'refund', handedOff: true, handedOffAt: REQUESTED_AT, handoffClaimId: 'c', handoffBotWebhooks: [{}] };
    assert.deepEqual(handedBackAttributes(attributes, ending, '2026-01-02T04:00:00.000Z', true), {
      topic: 'refund',
      handedBack: {
        at: '2026-01-02T04:00:00.000Z',
        taskSid: TASK,
        reason: 'wrapup',
        worker: { sid: `WK${'4'.repeat(32)}`, name: 'Alice' },
        outcome: null,
        botRestored: true,
      },
    });
  });
});

describe('checkSignature', () => {
  const context = { AUTH_TOKEN: 'token', DOMAIN_NAME: 'example-1234-dev.twil.io', PATH: '/lifecycle/task-events' };
  const signed = (signature) => ({ EventType: 'task.completed', request: { headers: { 'x-twilio-signature': signature } } });

  it('accepts a signature the validator accepts, over the https URL of the function and the parameters', () => {
    const seen = [];
    const validateSignature = (...args) => seen.push(args) > 0;
    assert.deepEqual(handover.checkSignature({ context, event: signed('sig'), validateSignature }), { ok: true });
    assert.deepEqual(seen, [['token', 'sig', 'https://example-1234-dev.twil.io/lifecycle/task-events', { EventType: 'task.completed' }]]);
  });

  it('answers 401 without a signature, with a wrong one, or without an auth token, naming no secret', () => {
    const refuse = () => false;
    const missing = handover.checkSignature({ context, event: { EventType: 'x' }, validateSignature: () => true });
    assert.deepEqual([missing.statusCode, missing.body.error], [401, 'This function answers Twilio only: the request has no X-Twilio-Signature.']);
    const wrong = handover.checkSignature({ context, event: signed('sig'), validateSignature: refuse });
    assert.deepEqual([wrong.statusCode, wrong.body.error], [401, 'The X-Twilio-Signature is not valid for this URL and these parameters.']);
    const noToken = handover.checkSignature({ context: { ...context, AUTH_TOKEN: '' }, event: signed('sig'), validateSignature: () => true });
    assert.equal(noToken.statusCode, 401);
  });
});
