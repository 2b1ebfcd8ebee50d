'use strict';
// The answers a handover tool gives the AI agent: status, body and the sentence it can say.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const contract = require('../../../assets/tools/contract.private.js');
const handoverHelpers = require('../../../assets/tools/handover.private.js');

const handover = handoverHelpers(contract);
const INTERACTION = `KD${'1'.repeat(32)}`;

describe('answers', () => {
  it('handedOff: 200 with the SID under its name and the sentence of the contract', () => {
    assert.deepEqual(handover.handedOff('interactionSid', INTERACTION), {
      ok: true,
      statusCode: 200,
      body: { status: 'handed_off', interactionSid: INTERACTION, message: contract.HANDED_OFF_MESSAGE },
    });
    assert.equal(contract.HANDED_OFF_MESSAGE, 'I have passed our conversation to a member of our team. They will reply here shortly.');
  });

  it('alreadyHandedOff: 200 naming the SID only when it is known', () => {
    const body = { status: 'already_handed_off', message: contract.ALREADY_HANDED_OFF_MESSAGE };
    assert.deepEqual(handover.alreadyHandedOff('executionSid', undefined), { ok: true, statusCode: 200, body });
    assert.deepEqual(handover.alreadyHandedOff('executionSid', 'FN1').body, { ...body, executionSid: 'FN1' });
  });

  it("twilioFailure: 502 with Twilio's code, status and message, and the fix when there is one", () => {
    const error = Object.assign(new Error('Workflow not found'), { status: 404, code: 20404 });
    assert.deepEqual(handover.twilioFailure(error, 'Creating the Flex interaction'), {
      ok: false,
      statusCode: 502,
      body: {
        status: 'failed',
        error: 'Creating the Flex interaction failed: Workflow not found',
        message: contract.FAILED_MESSAGE,
        twilioCode: 20404,
        twilioStatus: 404,
      },
    });
    assert.equal(handover.twilioFailure(error, 'Starting', 'Deploy it.').body.error, 'Starting failed: Workflow not found. Deploy it.');
  });

  it('twilioFailure: no Twilio code for a network error, and a message when there was no answer', () => {
    const network = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    assert.deepEqual([handover.twilioFailure(network, 'X').body.twilioCode, handover.twilioFailure(network, 'X').body.twilioStatus], [null, null]);
    assert.equal(handover.twilioFailure(undefined, 'X').body.error, 'X failed: no answer from Twilio');
  });

  it('tryAgain: 503, retryable, with the sentence of the contract', () => {
    assert.deepEqual(handover.tryAgain('Sync is busy.'), {
      ok: false,
      statusCode: 503,
      body: { status: 'failed', error: 'Sync is busy.', retryable: true, message: contract.TRY_AGAIN_MESSAGE },
    });
  });

  it('outOfTime: a 503 saying what did not succeed in time, and why', () => {
    const outOfTime = new handover.OutOfTime(Object.assign(new Error('Too Many Requests'), { status: 429 }), false);
    const answer = handover.outOfTime(outOfTime, 'Claiming the conversation');
    assert.equal(answer.statusCode, 503);
    assert.equal(answer.body.error, 'Claiming the conversation did not succeed in time: Too Many Requests');
    assert.equal(answer.body.retryable, true);
    assert.equal(
      handover.outOfTime(new handover.OutOfTime(undefined, true), 'X').body.error,
      'X did not succeed in time: no time left to try again: no answer from Twilio'
    );
  });

  it('speaks the messages of the contract it was made of', () => {
    const helpers = handoverHelpers({ ...contract, HANDED_OFF_MESSAGE: 'done', ALREADY_HANDED_OFF_MESSAGE: 'had it', TRY_AGAIN_MESSAGE: 'again', FAILED_MESSAGE: 'no' });
    assert.deepEqual(
      [
        helpers.handedOff('interactionSid', INTERACTION).body.message,
        helpers.alreadyHandedOff('interactionSid').body.message,
        helpers.tryAgain('x').body.message,
        helpers.twilioFailure(new Error('x'), 'X').body.message,
      ],
      ['done', 'had it', 'again', 'no']
    );
  });
});

describe('what a failure means', () => {
  it("isClaimedAlready: Sync's 409/54208 only", () => {
    assert.equal(handover.isClaimedAlready({ status: 409, code: 54208 }), true);
    assert.equal(handover.isClaimedAlready({ status: 409, code: 54301 }), false);
    assert.equal(handover.isClaimedAlready({ status: 400, code: 54208 }), false);
    assert.equal(handover.isClaimedAlready(undefined), false);
  });

  it('mayHaveSucceeded: a server error or no answer, never a 4xx', () => {
    assert.equal(handover.mayHaveSucceeded({ status: 500 }), true);
    assert.equal(handover.mayHaveSucceeded({ status: 503 }), true);
    assert.equal(handover.mayHaveSucceeded(new Error('ETIMEDOUT')), true);
    assert.equal(handover.mayHaveSucceeded(undefined), true);
    assert.equal(handover.mayHaveSucceeded({ status: 429 }), false);
    assert.equal(handover.mayHaveSucceeded({ status: 400 }), false);
  });
});
