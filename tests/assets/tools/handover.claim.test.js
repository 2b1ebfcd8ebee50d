'use strict';
// The claim that makes a handoff happen once, and the record of the handoff on the conversation.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const contract = require('../../../assets/tools/contract.private.js');
const handoverHelpers = require('../../../assets/tools/handover.private.js');

const handover = handoverHelpers(contract);
const CONVERSATION = `CH${'0'.repeat(32)}`;
const SYNC = `IS${'5'.repeat(32)}`;
const handoff = { reason: '', summary: '', source: '/tools/flex-handover', requestedAt: '2026-01-02T03:04:05.000Z' };
const REQUESTED_AT_MS = Date.parse(handoff.requestedAt);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function claimFor(conversationSid = CONVERSATION) {
  return handover.claimOf({ config: { syncServiceSid: SYNC }, session: { conversationSid }, handoff });
}

describe('claimMapOf', () => {
  // Computed with Python's handover.contract.claim_shard (the venv's, from py/handover/contract.py) and
  // written down here: the function and the `handover env set` / `doctor` commands must agree on the Map.
  const FROM_PYTHON = [
    ['CH00000000000000000000000000000000', 13],
    ['CHffffffffffffffffffffffffffffffff', 4],
    ['CH0123456789abcdef0123456789abcdef', 14],
    ['CHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 0],
    ['CH11111111111111111111111111111111', 10],
    ['CH22222222222222222222222222222222', 3],
    ['CHdeadbeefdeadbeefdeadbeefdeadbeef', 2],
  ];
  for (const [conversationSid, shard] of FROM_PYTHON) {
    it(`puts ${conversationSid} in shard ${shard}, as Python does`, () => {
      assert.equal(handover.claimMapOf(conversationSid), `handover-claims-${String(shard).padStart(2, '0')}`);
    });
  }

  it("spreads over the contract's shards and Map names", () => {
    const helpers = handoverHelpers({ ...contract, CLAIM_SHARDS: 1, CLAIM_MAP_PREFIX: 'claims-' });
    assert.deepEqual(FROM_PYTHON.map(([sid]) => helpers.claimMapOf(sid)), FROM_PYTHON.map(() => 'claims-00'));
  });
});

describe('claimOf', () => {
  it("claims the conversation in its shard of the configured Sync service for the contract's day", () => {
    const claim = claimFor();
    assert.deepEqual(
      { ...claim, item: { ...claim.item, data: { ...claim.item.data, claimId: 'any' } } },
      {
        serviceSid: SYNC,
        map: 'handover-claims-13',
        item: { key: CONVERSATION, data: { claimId: 'any', requestedAt: handoff.requestedAt, source: '/tools/flex-handover' }, itemTtl: 86400 },
      }
    );
    assert.equal(contract.CLAIM_TTL_SECONDS, 86400);
  });

  it('gives every claim an id of its own', () => {
    const [first, second] = [claimFor(), claimFor()];
    assert.match(first.item.data.claimId, UUID);
    assert.notEqual(first.item.data.claimId, second.item.data.claimId);
  });
});

describe('the record on the conversation', () => {
  const claim = { item: { data: { claimId: 'claim-1', requestedAt: handoff.requestedAt } } };

  it('handedOffAttributes records the handoff and its claim, keeping every other attribute', () => {
    assert.deepEqual(handover.handedOffAttributes('{"topic":"refund","handedOff":false}', claim), {
      topic: 'refund',
      handedOff: true,
      handedOffAt: handoff.requestedAt,
      handoffClaimId: 'claim-1',
    });
    assert.deepEqual(Object.keys(handover.handedOffAttributes(undefined, claim)), ['handedOff', 'handedOffAt', 'handoffClaimId']);
    assert.equal(handover.handedOffAttributes('not json', claim).handedOff, true);
  });

  it('unmarkedAttributes takes the record back, restoring an older one', () => {
    const marked = JSON.stringify(handover.handedOffAttributes('{"topic":"refund"}', claim));
    assert.deepEqual(handover.unmarkedAttributes(marked, '{"topic":"refund"}', claim), { topic: 'refund' });
    const older = { handedOff: true, handedOffAt: '2025-12-31T00:00:00.000Z', handoffClaimId: 'claim-0' };
    assert.deepEqual(handover.unmarkedAttributes(marked, JSON.stringify({ topic: 'refund', ...older }), claim), { topic: 'refund', ...older });
  });

  it("unmarkedAttributes leaves another claim's record alone", () => {
    const other = JSON.stringify({ handedOff: true, handedOffAt: handoff.requestedAt, handoffClaimId: 'claim-2' });
    assert.equal(handover.unmarkedAttributes(other, '{}', claim), null);
    assert.equal(handover.unmarkedAttributes('{}', '{}', claim), null);
  });

  it('handoffRecordOf reads a record of the last day, with its claim', () => {
    const record = JSON.stringify({ handedOff: true, handedOffAt: handoff.requestedAt, handoffClaimId: 'claim-1' });
    assert.deepEqual(handover.handoffRecordOf(record, REQUESTED_AT_MS + 1000), { claimId: 'claim-1' });
    assert.deepEqual(handover.handoffRecordOf(record, REQUESTED_AT_MS + 86400 * 1000 - 1), { claimId: 'claim-1' });
    assert.equal(handover.handoffRecordOf(record, REQUESTED_AT_MS + 86400 * 1000), null);
  });

  it("handoffRecordOf reads an earlier version's record, which names no claim, as claimId null", () => {
    const earlier = JSON.stringify({ handedOff: true, handedOffAt: handoff.requestedAt, interactionSid: 'KD1' });
    assert.deepEqual(handover.handoffRecordOf(earlier, REQUESTED_AT_MS), { claimId: null });
  });

  it('handoffRecordOf finds no record in attributes that do not say handed off', () => {
    for (const attributes of [
      undefined,
      '',
      'not json',
      '{}',
      JSON.stringify({ handedOff: 'true', handedOffAt: handoff.requestedAt }),
      JSON.stringify({ handedOff: true }),
      JSON.stringify({ handedOff: true, handedOffAt: 'yesterday' }),
    ]) {
      assert.equal(handover.handoffRecordOf(attributes, REQUESTED_AT_MS), null, attributes);
    }
  });

  it("handoffRecordOf counts the day of the contract's claim", () => {
    const record = JSON.stringify({ handedOff: true, handedOffAt: handoff.requestedAt, handoffClaimId: 'claim-1' });
    assert.equal(handoverHelpers({ ...contract, CLAIM_TTL_SECONDS: 60 }).handoffRecordOf(record, REQUESTED_AT_MS + 60 * 1000), null);
  });
});

describe('isStranded', () => {
  const item = { data: { requestedAt: handoff.requestedAt }, dateCreated: '2026-01-01T00:00:00.000Z' };

  it('is false for a claim younger than the 2 minutes of the contract, true from then on', () => {
    assert.equal(contract.CLAIM_STRANDED_AFTER_SECONDS, 120);
    assert.equal(handover.isStranded(item, REQUESTED_AT_MS + 119999), false);
    assert.equal(handover.isStranded(item, REQUESTED_AT_MS + 120000), true);
    assert.equal(handoverHelpers({ ...contract, CLAIM_STRANDED_AFTER_SECONDS: 10 }).isStranded(item, REQUESTED_AT_MS + 10000), true);
  });

  it("dates a claim without requestedAt by Sync's dateCreated", () => {
    const created = { data: {}, dateCreated: handoff.requestedAt };
    assert.equal(handover.isStranded(created, REQUESTED_AT_MS + 1000), false);
    assert.equal(handover.isStranded(created, REQUESTED_AT_MS + 120000), true);
  });

  it('counts a claim of unknown age as stranded', () => {
    assert.equal(handover.isStranded({ data: {} }, REQUESTED_AT_MS), true);
    assert.equal(handover.isStranded(undefined, REQUESTED_AT_MS), true);
  });
});
