'use strict';
// The voice path's pure helpers: how a ConversationRelay session ended, the AI's words in its HandoffData, the task's
// attributes inside TaskRouter's size limit, the configuration read one variable at a time, and the TwiML.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const twilio = require('twilio');

const contract = require('../../../assets/tools/contract.private.js');
const handover = require('../../../assets/tools/handover.private.js')(contract);
const voice = require('../../../assets/voice/relay.private.js');

const CALL = `CA${'1'.repeat(32)}`;
const WORKFLOW = `WW${'2'.repeat(32)}`;
const HANDOFF = { reason: 'refund', summary: 'Charged twice.', source: '/voice/connect-action', requestedAt: '2026-01-02T03:04:05.000Z' };
const EVENT = { CallSid: CALL, From: '+15557654321', To: '+15551230000' };

function configOf(staticAttributes = {}) {
  return { workflowSid: WORKFLOW, staticAttributes };
}

describe('endingOf', () => {
  it('hands off a caller still on the line whose session ended with HandoffData', () => {
    assert.deepEqual(voice.endingOf({ CallStatus: 'in-progress', SessionStatus: 'completed', HandoffData: '{}' }), { handoff: true });
  });

  it('hands off no caller who hung up, and none whose session ended without HandoffData', () => {
    assert.equal(voice.endingOf({ CallStatus: 'completed', HandoffData: '{"reason": "x"}' }).handoff, false);
    assert.deepEqual(voice.endingOf({ CallStatus: 'in-progress', SessionStatus: 'failed', HandoffData: '  ' }), {
      handoff: false,
      why: 'the session ended (failed) without HandoffData',
    });
  });
});

describe('readHandoffData', () => {
  it("reads TAC's attributes, and another AI's flat reason and summary", () => {
    const tac = JSON.stringify({ conversationId: 'conv_1', storeId: '', profileId: '', attributes: { reason: 'r', summary: 's' } });
    assert.deepEqual(voice.readHandoffData(handover, tac), { reason: 'r', summary: 's', problem: null });
    assert.deepEqual(voice.readHandoffData(handover, '{"reason": "a"}'), { reason: 'a', summary: '', problem: null });
  });

  it('marks data it cannot read, showing it cut, and says why', () => {
    const read = voice.readHandoffData(handover, 'x'.repeat(2000));
    assert.equal(read.problem, 'HandoffData is not a JSON object');
    assert.equal(read.summary, `${contract.UNREADABLE_HANDOFF_SUMMARY} ${'x'.repeat(500 - contract.CUT_MARKER.length)}${contract.CUT_MARKER}`);
  });
});

describe('cutMarked', () => {
  it('keeps text at its limit and ends a longer one with the marker, at the limit exactly', () => {
    assert.equal(voice.cutMarked(handover, 'abc', 3), 'abc');
    const cut = voice.cutMarked(handover, '😀'.repeat(20), 10);
    assert.equal(Array.from(cut).length, 10);
    assert.ok(cut.endsWith(contract.CUT_MARKER));
  });
});

describe('taskAttributesOf', () => {
  const sizeOf = (attributes) => Buffer.byteLength(JSON.stringify(attributes), 'utf8');

  it("writes the contract's voice attributes and the handoff, static attributes first", () => {
    const { attributes, cut } = voice.taskAttributesOf(handover, { config: configOf({ team: 'a', from: 'spoofed' }), event: EVENT, handoff: HANDOFF });
    assert.equal(cut, false);
    assert.deepEqual(Object.keys(attributes), ['team', ...contract.TASK_ATTRIBUTES.voice, contract.HANDOFF_ATTRIBUTE]);
    assert.equal(attributes.from, EVENT.From);
    assert.deepEqual(Object.keys(attributes.handoff), contract.HANDOFF_FIELDS);
  });

  it('drops static attributes that leave the summary no room, and stays inside the limit', () => {
    const huge = { notes: 'n'.repeat(contract.MAX_TASK_ATTRIBUTES_BYTES) };
    const { attributes, cut } = voice.taskAttributesOf(handover, { config: configOf(huge), event: EVENT, handoff: HANDOFF });
    assert.equal(cut, true);
    assert.equal(attributes.notes, undefined);
    assert.equal(attributes.handoff.summary, HANDOFF.summary);
    assert.ok(sizeOf(attributes) <= contract.MAX_TASK_ATTRIBUTES_BYTES);
  });
});

describe('readVoiceConfig', () => {
  it('takes the default of a malformed variable and keeps its problem, refusing nothing', () => {
    const { config, problems } = voice.readVoiceConfig(handover, { FLEX_WORKFLOW_SID: 'WWnope', HANDOVER_ATTRIBUTES: '{"a": 1}' });
    assert.equal(config.workflowSid, null);
    assert.deepEqual(config.staticAttributes, { a: 1 });
    assert.equal(config.endedTwiml, contract.CONFIG.HANDOVER_VOICE_ENDED_TWIML.defaultValue);
    assert.match(problems[0], /^FLEX_WORKFLOW_SID is set but is not WW followed by 32 hex characters/);
  });
});

describe('enqueueTwiml', () => {
  it("enqueues to the workflow with the attributes as the task's, escaped as XML", () => {
    const text = voice.enqueueTwiml(twilio.twiml.VoiceResponse, { config: configOf(), attributes: { note: '<b>&</b>' } });
    assert.equal(
      text,
      `<?xml version="1.0" encoding="UTF-8"?><Response><Enqueue workflowSid="${WORKFLOW}"><Task>{"note":"&lt;b&gt;&amp;&lt;/b&gt;"}</Task></Enqueue></Response>`
    );
  });
});
