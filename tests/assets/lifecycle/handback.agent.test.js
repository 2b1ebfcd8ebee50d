'use strict';
// The agent's Return to AI, its pure helpers: the request (the Flex token, the task), who may hand a task back, the
// hand-back it makes of the task, what it needs of the environment, and the token's validation within its time.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const contract = require('../../../assets/tools/contract.private.js');
const {
  agentRequestOf,
  handlerOf,
  mayHandBack,
  agentEndingOf,
  agentSetupOf,
  validated,
} = require('../../../assets/lifecycle/handback.private.js');

const TASK = `WT${'1'.repeat(32)}`;
const CONVERSATION = `CH${'2'.repeat(32)}`;
const SERVICE = `IS${'3'.repeat(32)}`;
const ALICE = `WK${'4'.repeat(32)}`;
const BOB = `WK${'5'.repeat(32)}`;
const WORKSPACE = `WS${'6'.repeat(32)}`;
const REQUESTED_AT = '2026-01-02T03:04:05.000Z';
const KIT_ATTRIBUTES = JSON.stringify({
  conversationSid: CONVERSATION,
  conversationServiceSid: SERVICE,
  handoff: { reason: 'refund', summary: '', source: '/tools/flex-handover', requestedAt: REQUESTED_AT },
});
const FORBIDDEN = 'Only the agent who accepted this task, or a supervisor or an admin, can hand it back to the AI.';

function reservation(workerSid, reservationStatus, workerName = 'Alice') {
  return { workerSid, workerName, reservationStatus };
}

function refusal(result) {
  return [result.ok, result.statusCode, result.body];
}

describe('agentRequestOf', () => {
  it('reads the Flex token and the task', () => {
    assert.deepEqual(agentRequestOf({ Token: 'jwe', TaskSid: TASK }), { ok: true, token: 'jwe', taskSid: TASK });
  });

  it('answers 401 without a token (an empty one, or one that is not text), whatever the task', () => {
    const error = "This function needs the agent's Flex token: send it as Token in the body.";
    for (const event of [{ TaskSid: TASK }, { Token: '', TaskSid: TASK }, { Token: ['jwe'], TaskSid: TASK }, { TaskSid: 'bad' }]) {
      assert.deepEqual(refusal(agentRequestOf(event)), [undefined, 401, { status: 'rejected', error }], JSON.stringify(event));
    }
  });

  it('answers 400 for a TaskSid that is not a task SID', () => {
    const error = 'TaskSid must be the SID of the Flex task: WT followed by 32 hex characters.';
    for (const taskSid of [undefined, '', 'WT123', `WK${'a'.repeat(32)}`, `WT${'g'.repeat(32)}`, `${TASK}x`, 12, [TASK]]) {
      assert.deepEqual(refusal(agentRequestOf({ Token: 'jwe', TaskSid: taskSid })), [undefined, 400, { status: 'rejected', error }]);
    }
  });
});

describe('handlerOf', () => {
  it("is the reservation of the agent who has or had the task: accepted, wrapping up or completed", () => {
    for (const status of ['accepted', 'wrapping', 'completed']) {
      const found = handlerOf([reservation(BOB, 'rejected'), reservation(ALICE, status)]);
      assert.equal(found.workerSid, ALICE, status);
    }
  });

  it('is none while the task is only offered, or was refused, timed out or canceled', () => {
    const statuses = ['pending', 'rejected', 'timeout', 'canceled', 'rescinded'];
    assert.equal(handlerOf(statuses.map((status) => reservation(ALICE, status))), undefined);
    assert.equal(handlerOf([]), undefined);
  });
});

describe('mayHandBack', () => {
  const reservations = [reservation(BOB, 'rejected', 'Bob'), reservation(ALICE, 'accepted')];

  it("lets the task's agent hand it back, recorded with the reservation's name", () => {
    assert.deepEqual(mayHandBack({ worker_sid: ALICE, roles: ['agent'] }, reservations), { ok: true, worker: { sid: ALICE, name: 'Alice' } });
  });

  it("refuses another agent's token, one without a worker, and any token when no one accepted the task", () => {
    const forbidden = [undefined, 403, { status: 'rejected', error: FORBIDDEN }];
    assert.deepEqual(refusal(mayHandBack({ worker_sid: BOB, roles: ['agent'] }, reservations)), forbidden);
    assert.deepEqual(refusal(mayHandBack({ worker_sid: null, roles: ['agent'] }, reservations)), forbidden);
    assert.deepEqual(refusal(mayHandBack({ roles: null }, reservations)), forbidden);
    assert.deepEqual(refusal(mayHandBack({ worker_sid: ALICE, roles: ['agent'] }, [reservation(ALICE, 'pending')])), forbidden);
  });

  it("lets a supervisor or an admin hand back anyone's task, recorded as who asked, without a name", () => {
    for (const role of ['supervisor', 'admin']) {
      assert.deepEqual(mayHandBack({ worker_sid: BOB, roles: ['agent', role] }, reservations), { ok: true, worker: { sid: BOB, name: null } });
      assert.deepEqual(mayHandBack({ worker_sid: BOB, roles: [role] }, []), { ok: true, worker: { sid: BOB, name: null } });
    }
    assert.deepEqual(mayHandBack({ worker_sid: '', roles: ['admin'] }, reservations), { ok: true, worker: null });
  });

  it('takes no other role for an overseer', () => {
    for (const roles of [['wfo.full_access'], 'supervisor', ['Supervisor']]) {
      assert.equal(mayHandBack({ worker_sid: BOB, roles }, reservations).statusCode, 403, JSON.stringify(roles));
    }
  });
});

describe('agentEndingOf', () => {
  it("reads the task as the end of a task, reason agent, with the worker who asked and no outcome", () => {
    const worker = { sid: ALICE, name: 'Alice' };
    assert.deepEqual(agentEndingOf({ sid: TASK, attributes: KIT_ATTRIBUTES }, worker, contract), {
      ok: true,
      kind: 'agent',
      taskSid: TASK,
      session: { serviceSid: SERVICE, conversationSid: CONVERSATION },
      requestedAt: REQUESTED_AT,
      worker,
      outcome: null,
    });
  });

  it('ignores a task no handover tool created, whatever its attributes', () => {
    for (const attributes of ['{"from": "+15551234567"}', JSON.stringify({ conversationSid: CONVERSATION }), '{', '']) {
      assert.deepEqual(agentEndingOf({ sid: TASK, attributes }, null, contract), { ignored: 'the task was not created by a handover tool' });
    }
  });
});

describe('agentSetupOf', () => {
  const context = { FLEX_WORKSPACE_SID: WORKSPACE, ACCOUNT_SID: `AC${'7'.repeat(32)}`, AUTH_TOKEN: 'secret' };
  const setBy = contract.CONFIG.FLEX_WORKSPACE_SID.setBy;

  it('reads the Flex workspace', () => {
    assert.deepEqual(agentSetupOf(context, contract), { ok: true, workspaceSid: WORKSPACE });
  });

  it('answers 500 naming the fix for a workspace missing or malformed', () => {
    const missing = agentSetupOf({ ...context, FLEX_WORKSPACE_SID: undefined }, contract);
    assert.deepEqual(refusal(missing), [
      undefined,
      500,
      { status: 'failed', error: `FLEX_WORKSPACE_SID is not set on this Functions environment. Set it with \`${setBy}\` (or in .env for a local run), then call again.` },
    ]);
    const malformed = agentSetupOf({ ...context, FLEX_WORKSPACE_SID: 'WS123' }, contract);
    assert.equal(malformed.body.error.startsWith('FLEX_WORKSPACE_SID is set but is not WS followed by 32 hex characters.'), true);
  });

  it("answers 500 without the account's credentials, which the validation needs", () => {
    for (const name of ['ACCOUNT_SID', 'AUTH_TOKEN']) {
      const result = agentSetupOf({ ...context, [name]: '' }, contract);
      assert.deepEqual([result.statusCode, result.body.status], [500, 'failed'], name);
    }
  });
});

describe('validated', () => {
  const context = { ACCOUNT_SID: `AC${'7'.repeat(32)}`, AUTH_TOKEN: 'secret' };

  it("asks the validator with the account's credentials and resolves to its result", async () => {
    const asked = [];
    const result = { valid: true, worker_sid: ALICE, roles: ['agent'] };
    const validator = async (...args) => asked.push(args) && result;
    assert.deepEqual(await validated(validator, 'jwe', context, 1000), { ok: true, result });
    assert.deepEqual(asked, [['jwe', context.ACCOUNT_SID, 'secret', '']]);
  });

  it("asks in the region's realm, as the validator's functionValidator does", async () => {
    const asked = [];
    const validator = async (...args) => asked.push(args) && { valid: true };
    await validated(validator, 'jwe', { ...context, TWILIO_REGION: 'au1-sydney' }, 1000);
    assert.equal(asked[0][3], 'au1');
  });

  it('is refused with the reason, whether the validator rejects or throws', async () => {
    assert.deepEqual(await validated(() => Promise.reject('Invalid Access Token'), 'jwe', context, 1000), { ok: false, reason: 'Invalid Access Token' });
    const throwing = () => {
      throw new Error('boom');
    };
    assert.deepEqual(await validated(throwing, 'jwe', context, 1000), { ok: false, reason: 'boom' });
  });

  it('times out when the validator does not answer in time', async () => {
    const never = () => new Promise(() => {});
    assert.deepEqual(await validated(never, 'jwe', context, 20), { ok: false, timedOut: true });
  });
});
