'use strict';
// The configuration as the helpers read it from the Functions environment (`context`) and the contract's table.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const contract = require('../../../assets/tools/contract.private.js');
const handoverHelpers = require('../../../assets/tools/handover.private.js');

const handover = handoverHelpers(contract);
const WORKSPACE = `WS${'1'.repeat(32)}`;
const WORKFLOW = `WW${'2'.repeat(32)}`;
const FLOW = `FW${'3'.repeat(32)}`;
const SYNC = `IS${'4'.repeat(32)}`;
const TOKEN = 't'.repeat(43);
const SET_VARIABLE = 'handover env set --workspace-sid WS… --workflow-sid WW… [--task-channel <name>]';
const STUDIO_DEPLOY = 'handover studio deploy [--from-address +1…]';
const FLEX = { FLEX_WORKSPACE_SID: WORKSPACE, FLEX_WORKFLOW_SID: WORKFLOW, HANDOVER_TOKEN: TOKEN };
const STUDIO = { TWILIO_STUDIO_HANDOFF_FLOW_SID: FLOW, STUDIO_FROM_ADDRESS: '+15551234567', HANDOVER_TOKEN: TOKEN };

function refused(result, statusCode, error) {
  assert.equal(result.ok, false);
  assert.equal(result.statusCode, statusCode);
  assert.deepEqual(result.body, { status: statusCode >= 500 ? 'failed' : 'rejected', error });
}

describe('readConfig', () => {
  it('reads what flex-handover needs, with the defaults of the contract', () => {
    assert.deepEqual(handover.readConfig(FLEX, {}, 'flex-handover'), {
      ok: true,
      workspaceSid: WORKSPACE,
      workflowSid: WORKFLOW,
      taskChannel: 'chat',
      flowSid: undefined,
      fromAddress: undefined,
      syncServiceSid: 'default',
      deadlineMs: 8000,
      attemptTimeoutMs: 2500,
      handBackMessage: undefined,
      noAgentMessage: undefined,
      staticAttributes: {},
      hours: null,
      queueSid: null,
      whenNoAgent: 'queue',
      unavailableMessage: 'No one from our team is available right now.',
    });
  });

  it('reads what task-events needs: the messages, the claim and the timings, without any routing', () => {
    assert.deepEqual(handover.readConfig({}, {}, 'task-events'), {
      ok: true,
      workspaceSid: undefined,
      workflowSid: undefined,
      taskChannel: undefined,
      flowSid: undefined,
      fromAddress: undefined,
      syncServiceSid: 'default',
      deadlineMs: 8000,
      attemptTimeoutMs: 2500,
      handBackMessage: '',
      noAgentMessage: contract.CONFIG.NO_AGENT_MESSAGE.defaultValue,
      staticAttributes: {},
      hours: null,
      queueSid: null,
      whenNoAgent: undefined,
      unavailableMessage: undefined,
    });
    const set = handover.readConfig({ HANDBACK_MESSAGE: 'Back to the assistant.', NO_AGENT_MESSAGE: 'Nobody is in.' }, {}, 'task-events');
    assert.deepEqual([set.handBackMessage, set.noAgentMessage], ['Back to the assistant.', 'Nobody is in.']);
  });

  it('refuses a hand-back message over 1600 characters, naming how to set it', () => {
    const refused = handover.readConfig({ HANDBACK_MESSAGE: 'x'.repeat(1601) }, {}, 'task-events');
    assert.equal(refused.statusCode, 500);
    assert.match(refused.body.error, /HANDBACK_MESSAGE is set but is not text of 1 to 1600 characters\. Set it with `twilio serverless:env:set --key HANDBACK_MESSAGE/);
  });

  it('reads what studio-handover needs, without the Flex routing', () => {
    const config = handover.readConfig(STUDIO, {}, 'studio-handover');
    assert.equal(config.ok, true);
    assert.deepEqual([config.flowSid, config.fromAddress, config.workspaceSid, config.taskChannel], [FLOW, '+15551234567', undefined, undefined]);
  });

  it('reads the set values, the timings as numbers and the static attributes as an object', () => {
    const context = {
      ...FLEX,
      FLEX_TASK_CHANNEL: 'sms',
      SYNC_SERVICE_SID: SYNC,
      HANDOVER_DEADLINE_MS: '5000',
      HANDOVER_ATTEMPT_TIMEOUT_MS: '40',
      HANDOVER_ATTRIBUTES: ' {"department": "support"} ',
    };
    const config = handover.readConfig(context, {}, 'flex-handover');
    assert.deepEqual(
      [config.taskChannel, config.syncServiceSid, config.deadlineMs, config.attemptTimeoutMs, config.staticAttributes],
      ['sms', SYNC, 5000, 40, { department: 'support' }]
    );
  });

  it('answers 500 for a missing variable, naming it and the command that sets it', () => {
    refused(
      handover.readConfig({ ...FLEX, FLEX_WORKFLOW_SID: '' }, {}, 'flex-handover'),
      500,
      `FLEX_WORKFLOW_SID is not set on this Functions environment. Set it with \`${SET_VARIABLE}\` (or in .env for a local run), then call again.`
    );
    refused(
      handover.readConfig({ ...STUDIO, TWILIO_STUDIO_HANDOFF_FLOW_SID: undefined }, {}, 'studio-handover'),
      500,
      `TWILIO_STUDIO_HANDOFF_FLOW_SID is not set on this Functions environment. Set it with \`${STUDIO_DEPLOY}\` (or in .env for a local run), then call again.`
    );
  });

  it('answers 500 for a malformed variable, saying what a good one looks like', () => {
    const cases = [
      ['FLEX_WORKSPACE_SID', `WW${'1'.repeat(32)}`, 'WS followed by 32 hex characters'],
      ['FLEX_TASK_CHANNEL', 'has space', 'a task channel unique name such as chat, sms or voice'],
      ['SYNC_SERVICE_SID', 'mine', 'IS followed by 32 hex characters, or default'],
      ['HANDOVER_DEADLINE_MS', '99', 'a whole number of milliseconds from 100 to 9999'],
      ['HANDOVER_ATTEMPT_TIMEOUT_MS', '10000', 'a whole number of milliseconds from 10 to 9999'],
      ['HANDOVER_ATTRIBUTES', '["support"]', 'a JSON object'],
    ];
    for (const [name, value, expected] of cases) {
      refused(
        handover.readConfig({ ...FLEX, [name]: value }, {}, 'flex-handover'),
        500,
        `${name} is set but is not ${expected}. Set it with \`${SET_VARIABLE}\` (or in .env for a local run), then call again.`
      );
    }
  });

  it('answers 500 for static attributes that look like an object but do not parse', () => {
    refused(
      handover.readConfig({ ...FLEX, HANDOVER_ATTRIBUTES: '{department: support}' }, {}, 'flex-handover'),
      500,
      `HANDOVER_ATTRIBUTES is set but is not a JSON object. Set it with \`${SET_VARIABLE}\` (or in .env for a local run), then call again.`
    );
  });

  it("checks a tool's own variables before the shared ones, and the static attributes last", () => {
    const flex = handover.readConfig({ HANDOVER_TOKEN: TOKEN, SYNC_SERVICE_SID: 'bad', HANDOVER_ATTRIBUTES: '[]' }, {}, 'flex-handover');
    assert.match(flex.body.error, /^FLEX_WORKSPACE_SID is not set/);
    // STUDIO_FROM_ADDRESS is the Studio tool's alone; the flow's SID it shares with voice/incoming-call.
    const studio = handover.readConfig({ HANDOVER_DEADLINE_MS: '1', HANDOVER_ATTRIBUTES: '[]' }, {}, 'studio-handover');
    assert.match(studio.body.error, /^STUDIO_FROM_ADDRESS is not set/);
    const shared = handover.readConfig({ ...FLEX, HANDOVER_DEADLINE_MS: '1', HANDOVER_ATTRIBUTES: '[]' }, {}, 'flex-handover');
    assert.match(shared.body.error, /^HANDOVER_DEADLINE_MS is set but/);
  });

  it("takes a well-formed per-request routing override over the environment's, and ignores an empty one", () => {
    const other = `WS${'9'.repeat(32)}`;
    assert.equal(handover.readConfig(FLEX, { FlexWorkspaceSid: other }, 'flex-handover').workspaceSid, other);
    assert.equal(handover.readConfig(FLEX, { FlexWorkflowSid: '' }, 'flex-handover').workflowSid, WORKFLOW);
    assert.equal(handover.readConfig({ ...FLEX, FLEX_WORKSPACE_SID: undefined }, { FlexWorkspaceSid: other }, 'flex-handover').workspaceSid, other);
  });

  it('answers 400 for a malformed override, quoting it', () => {
    refused(
      handover.readConfig(FLEX, { FlexWorkflowSid: 'WWnope' }, 'flex-handover'),
      400,
      'FlexWorkflowSid must be WW followed by 32 hex characters, got "WWnope".'
    );
    refused(
      handover.readConfig(FLEX, { FlexWorkspaceSid: ['x'] }, 'flex-handover'),
      400,
      'FlexWorkspaceSid must be WS followed by 32 hex characters, got "x".'
    );
  });

  it('follows the table of the contract it was made of', () => {
    const CONFIG = {
      ...contract.CONFIG,
      FLEX_TASK_CHANNEL: { ...contract.CONFIG.FLEX_TASK_CHANNEL, defaultValue: 'voice' },
      SYNC_SERVICE_SID: { ...contract.CONFIG.SYNC_SERVICE_SID, pattern: /^shared$/, expected: 'shared', defaultValue: null, setBy: 'make it' },
    };
    const helpers = handoverHelpers({ ...contract, CONFIG });
    assert.equal(helpers.readConfig({ ...FLEX, SYNC_SERVICE_SID: 'shared' }, {}, 'flex-handover').taskChannel, 'voice');
    refused(
      helpers.readConfig({ ...FLEX, SYNC_SERVICE_SID: 'default' }, {}, 'flex-handover'),
      500,
      'SYNC_SERVICE_SID is set but is not shared. Set it with `make it` (or in .env for a local run), then call again.'
    );
  });
});

describe('readToken', () => {
  it('reads the handover token', () => {
    assert.deepEqual(handover.readToken({ HANDOVER_TOKEN: TOKEN }, {}), { ok: true, token: TOKEN });
  });

  it('answers 500 for a missing or malformed token, without echoing it', () => {
    refused(
      handover.readToken({}, {}),
      500,
      `HANDOVER_TOKEN is not set on this Functions environment. Set it with \`${SET_VARIABLE}\` (or in .env for a local run), then call again.`
    );
    const short = handover.readToken({ HANDOVER_TOKEN: 'short-secret' }, {});
    assert.equal(short.statusCode, 500);
    assert.match(short.body.error, /^HANDOVER_TOKEN is set but is not 43 to 128 URL-safe characters/);
    assert.ok(!short.body.error.includes('short-secret'));
  });
});
