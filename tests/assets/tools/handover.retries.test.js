'use strict';
// Retries of a Twilio request within the deadline: the backoff, the deadline, and withRetries.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const contract = require('../../../assets/tools/contract.private.js');
const handoverHelpers = require('../../../assets/tools/handover.private.js');

const handover = handoverHelpers(contract);
// Backoffs of 0 ms, so that retries take no time; the deadline is a fake that says how much time is left.
const quick = handoverHelpers({ ...contract, RETRY_BASE_MS: 1, RETRY_CAP_MS: 1 });

// The fake deadline leaves no time once asked 20 times, so that a retry loop that went wrong ends.
function deadline(remainingMs, attemptMs = 10) {
  let asked = 0;
  return { remainingMs: () => (++asked > 20 ? 0 : remainingMs), attemptMs };
}

function twilioError(status, message = `HTTP ${status}`) {
  return Object.assign(new Error(message), { status });
}

/** An attempt that fails with each of `failures` in turn, then resolves to `value`; `calls` counts it. */
function attempts(failures, value = 'done') {
  const attempt = async () => {
    attempt.calls += 1;
    if (attempt.calls <= failures.length) throw failures[attempt.calls - 1];
    return value;
  };
  attempt.calls = 0;
  return attempt;
}

describe('backoffMs', () => {
  it('doubles from the base up to the cap of the contract, with full jitter', (t) => {
    assert.deepEqual([contract.RETRY_BASE_MS, contract.RETRY_CAP_MS], [100, 1000]);
    t.mock.method(Math, 'random', () => 0.999999);
    assert.deepEqual([0, 1, 2, 3, 4, 10].map(handover.backoffMs), [99, 199, 399, 799, 999, 999]);
    t.mock.method(Math, 'random', () => 0.5);
    assert.deepEqual([0, 1, 2, 3, 4].map(handover.backoffMs), [50, 100, 200, 400, 500]);
    t.mock.method(Math, 'random', () => 0);
    assert.deepEqual([0, 4].map(handover.backoffMs), [0, 0]);
  });

  it("follows the contract's base and cap", (t) => {
    t.mock.method(Math, 'random', () => 0.5);
    assert.deepEqual([0, 1, 2].map(handoverHelpers({ ...contract, RETRY_BASE_MS: 10, RETRY_CAP_MS: 30 }).backoffMs), [5, 10, 15]);
  });
});

describe('deadlineOf', () => {
  it('counts the time left from when the call started, and the attempt timeout', (t) => {
    const clock = t.mock.method(Date, 'now', () => 3000);
    const due = handover.deadlineOf(1000, { deadlineMs: 8000, attemptTimeoutMs: 2500 });
    assert.equal(due.attemptMs, 2500);
    assert.equal(due.remainingMs(), 6000);
    clock.mock.mockImplementation(() => 9500);
    assert.equal(due.remainingMs(), -500);
  });
});

describe('withRetries', () => {
  it('answers what the first attempt resolves to', async () => {
    const attempt = attempts([]);
    assert.equal(await quick.withRetries(attempt, deadline(10000)), 'done');
    assert.equal(attempt.calls, 1);
  });

  it('tries again after throttling, a server error or no answer', async () => {
    const attempt = attempts([twilioError(429), twilioError(500), twilioError(503), new Error('socket hang up')]);
    assert.equal(await quick.withRetries(attempt, deadline(10000)), 'done');
    assert.equal(attempt.calls, 5);
  });

  it('gives up at once on a 4xx other than 429', async () => {
    for (const status of [400, 401, 404, 409, 412]) {
      const error = twilioError(status);
      const attempt = attempts([error]);
      await assert.rejects(quick.withRetries(attempt, deadline(10000)), (thrown) => thrown === error);
      assert.equal(attempt.calls, 1);
    }
  });

  it('throws OutOfTime with the last failure when no attempt can finish before the deadline', async () => {
    const error = twilioError(429);
    const attempt = attempts([error, error]);
    await assert.rejects(quick.withRetries(attempt, deadline(9, 10)), (thrown) => {
      assert.ok(thrown instanceof handover.OutOfTime);
      assert.equal(thrown.cause, error);
      assert.equal(thrown.unsettled, false);
      assert.equal(thrown.message, 'no time left to try again: HTTP 429');
      return true;
    });
    assert.equal(attempt.calls, 1);
  });

  it('keeps reserveMs of the deadline back', async () => {
    const attempt = attempts([twilioError(500)]);
    await assert.rejects(quick.withRetries(attempt, deadline(1000, 10), { reserveMs: 995 }), handover.OutOfTime);
    const roomy = attempts([twilioError(500)]);
    assert.equal(await quick.withRetries(roomy, deadline(1000, 10), { reserveMs: 990 }), 'done');
  });

  it('counts the backoff into the time an attempt needs', async (t) => {
    t.mock.method(Math, 'random', () => 0.5); // the first backoff is 50 ms with the contract's base of 100
    const attempt = attempts([twilioError(500)]);
    await assert.rejects(handover.withRetries(attempt, deadline(59, 10)), handover.OutOfTime);
    assert.equal(attempt.calls, 1);
  });

  it('passes an OutOfTime from the attempt on without trying again', async () => {
    const outOfTime = new handover.OutOfTime(twilioError(500), true);
    const attempt = attempts([outOfTime]);
    await assert.rejects(quick.withRetries(attempt, deadline(10000)), (thrown) => thrown === outOfTime);
    assert.equal(attempt.calls, 1);
  });

  describe('with settle', () => {
    it('asks settle, not the attempt, after a failure that may have done the work, and answers what it found', async () => {
      const attempt = attempts([twilioError(500)]);
      const settle = async () => ({ sid: 'found' });
      assert.deepEqual(await quick.withRetries(attempt, deadline(10000), { settle }), { sid: 'found' });
      assert.equal(attempt.calls, 1);
    });

    it('asks settle at once after a server error: the request has ended, as it was answered', async () => {
      const started = Date.now();
      let settledAfter;
      const settle = async () => {
        settledAfter = Date.now() - started;
        return { sid: 'found' };
      };
      await quick.withRetries(attempts([twilioError(500)]), deadline(10000, 1000), { settle });
      assert.ok(settledAfter < 500, `settle was asked ${settledAfter} ms after the attempt`);
    });

    it('gives up on a 4xx once settle has said the work was not done', async () => {
      const refused = twilioError(400);
      const attempt = attempts([twilioError(500), refused]);
      await assert.rejects(quick.withRetries(attempt, deadline(10000), { settle: async () => undefined }), (thrown) => thrown === refused);
      assert.equal(attempt.calls, 2);
    });

    it('tries again once settle says the work was not done', async () => {
      const attempt = attempts([twilioError(502)]);
      let settled = 0;
      const settle = async () => {
        settled += 1;
        return undefined;
      };
      assert.equal(await quick.withRetries(attempt, deadline(10000), { settle }), 'done');
      assert.deepEqual([attempt.calls, settled], [2, 1]);
    });

    it('does not ask settle after a failure that did no work', async () => {
      const attempt = attempts([twilioError(429)]);
      const settle = async () => 'settled, although a 429 did nothing';
      assert.equal(await quick.withRetries(attempt, deadline(10000), { settle }), 'done');
      assert.equal(attempt.calls, 2);
    });

    it('asks a failing settle again, and attempts nothing meanwhile', async () => {
      const attempt = attempts([twilioError(500)]);
      const answers = [twilioError(500), twilioError(404), undefined];
      const settle = async () => {
        const answer = answers.shift();
        if (answer instanceof Error) throw answer;
        return answer;
      };
      assert.equal(await quick.withRetries(attempt, deadline(10000), { settle }), 'done');
      assert.deepEqual([attempt.calls, answers.length], [2, 0]);
    });

    it('waits two attempt timeouts after a request that got no answer before asking settle', async () => {
      const attemptMs = 25;
      let startedAt;
      const attempt = async () => {
        startedAt = Date.now();
        throw new Error('timeout');
      };
      let settledAfter;
      const settle = async () => {
        settledAfter = Date.now() - startedAt;
        return { sid: 'found' };
      };
      assert.deepEqual(await quick.withRetries(attempt, deadline(10000, attemptMs), { settle }), { sid: 'found' });
      assert.ok(settledAfter >= 2 * attemptMs - 1, `settle was asked ${settledAfter} ms after the attempt`);
    });

    it('throws an unsettled OutOfTime when the work may have been done and no time is left to find out', async () => {
      const answered = attempts([twilioError(500)]);
      await assert.rejects(quick.withRetries(answered, deadline(9, 10), { settle: async () => undefined }), (thrown) => {
        assert.ok(thrown instanceof handover.OutOfTime);
        assert.equal(thrown.unsettled, true);
        return true;
      });
      // No answer: settle would have to wait two attempt timeouts, more than the deadline leaves.
      let remaining = 1000;
      const shrinking = { remainingMs: () => remaining, attemptMs: 300 };
      const unanswered = async () => {
        remaining = 500;
        throw new Error('timeout');
      };
      const settle = async () => ({ sid: 'asked too early' });
      await assert.rejects(quick.withRetries(unanswered, shrinking, { settle }), (thrown) => thrown instanceof handover.OutOfTime && thrown.unsettled);
    });
  });
});
