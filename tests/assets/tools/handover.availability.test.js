'use strict';
// Whether anyone can take a handoff: the opening hours (HANDOVER_HOURS) as readConfig reads them, open or closed at
// given instants across time zones and their clock changes, the next opening, and the `no_agent_available` answers
// (closed, and no available worker in HANDOVER_QUEUE_SID under HANDOVER_WHEN_NO_AGENT=answer).
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const contract = require('../../../assets/tools/contract.private.js');
const handoverHelpers = require('../../../assets/tools/handover.private.js');

const handover = handoverHelpers(contract);
const FLEX = { FLEX_WORKSPACE_SID: `WS${'1'.repeat(32)}`, FLEX_WORKFLOW_SID: `WW${'2'.repeat(32)}`, HANDOVER_TOKEN: 't'.repeat(43) };
const QUEUE = `WQ${'3'.repeat(32)}`;
const SET_HOURS = "twilio serverless:env:set --key HANDOVER_HOURS --value '{\"timeZone\": …, \"weekly\": {…}}'";
const MESSAGE = 'No one from our team is available right now.';
// Paris office hours: a lunch break on Tuesday, closed at the weekend and on Christmas day.
const OFFICE = {
  timeZone: 'Europe/Paris',
  weekly: {
    mon: [['09:00', '18:00']],
    tue: [['13:00', '18:00'], ['09:00', '12:00']],
    wed: [['09:00', '18:00']],
    thu: [['09:00', '18:00']],
    fri: [['09:00', '18:00']],
  },
  closed: ['2026-12-25'],
};

function configWith(variables) {
  const config = handover.readConfig({ ...FLEX, ...variables }, {}, 'flex-handover');
  assert.equal(config.ok, true, config.body && config.body.error);
  return config;
}

function hoursOf(schedule) {
  return configWith({ HANDOVER_HOURS: JSON.stringify(schedule) }).hours;
}

const at = (iso) => Date.parse(iso);

describe('readConfig: the opening hours and the queue check', () => {
  it('reads the opening hours as minutes past midnight of each day, in order, a day not given closed', () => {
    assert.deepEqual(hoursOf(OFFICE), {
      timeZone: 'Europe/Paris',
      days: {
        sun: [],
        mon: [[540, 1080]],
        tue: [[540, 720], [780, 1080]],
        wed: [[540, 1080]],
        thu: [[540, 1080]],
        fri: [[540, 1080]],
        sat: [],
      },
      closed: ['2026-12-25'],
    });
    assert.deepEqual(hoursOf({ timeZone: 'UTC', weekly: { sun: [['00:00', '24:00']] } }).days.sun, [[0, 1440]]);
    assert.deepEqual(hoursOf({ timeZone: 'UTC', weekly: { sun: [['00:00', '24:00']] } }).closed, []);
  });

  it('reads the queue, the policy and the message, each with its default', () => {
    const set = configWith({
      HANDOVER_QUEUE_SID: QUEUE,
      HANDOVER_WHEN_NO_AGENT: 'answer',
      HANDOVER_UNAVAILABLE_MESSAGE: 'We are closed.',
    });
    assert.deepEqual([set.hours, set.queueSid, set.whenNoAgent, set.unavailableMessage], [null, QUEUE, 'answer', 'We are closed.']);
    const unset = configWith({ HANDOVER_HOURS: '', HANDOVER_QUEUE_SID: '' });
    assert.deepEqual([unset.hours, unset.queueSid, unset.whenNoAgent, unset.unavailableMessage], [null, null, 'queue', MESSAGE]);
    assert.equal(contract.CONFIG.HANDOVER_UNAVAILABLE_MESSAGE.defaultValue, MESSAGE);
  });

  it('answers 500 for malformed opening hours, naming the variable, what is wrong and how to set it', () => {
    const week = { mon: [['09:00', '18:00']] };
    const cases = [
      ['["mon"]', 'is not a JSON object of opening hours such as {"timeZone": "Europe/Paris", "weekly": {"mon": [["09:00", "18:00"]]}}'],
      ['{timeZone: UTC}', 'is not a JSON object of opening hours such as {"timeZone": "Europe/Paris", "weekly": {"mon": [["09:00", "18:00"]]}}'],
      [{ timeZone: 'UTC', weekly: week, holidays: [] }, 'its key "holidays" is not one of timeZone, weekly, closed'],
      [{ weekly: week }, 'it has no timeZone, an IANA time zone such as "Europe/Paris"'],
      [{ timeZone: 'Mars/Olympus_Mons', weekly: week }, 'its timeZone "Mars/Olympus_Mons" is not an IANA time zone such as "Europe/Paris"'],
      [{ timeZone: 1, weekly: week }, 'its timeZone 1 is not an IANA time zone such as "Europe/Paris"'],
      [{ timeZone: 'UTC' }, 'its weekly is not an object of days such as {"mon": [["09:00", "18:00"]]}'],
      [{ timeZone: 'UTC', weekly: [['09:00', '18:00']] }, 'its weekly is not an object of days such as {"mon": [["09:00", "18:00"]]}'],
      [{ timeZone: 'UTC', weekly: { monday: [['09:00', '18:00']] } }, 'its weekly day "monday" is not one of mon, tue, wed, thu, fri, sat, sun'],
      [{ timeZone: 'UTC', weekly: { mon: ['09:00', '18:00'] } }, 'its weekly.mon[0] is not an [opening, closing] pair of times such as ["09:00", "18:00"]'],
      [{ timeZone: 'UTC', weekly: { mon: '09:00-18:00' } }, 'its weekly.mon is not a list of [opening, closing] times such as [["09:00", "18:00"]]'],
      [{ timeZone: 'UTC', weekly: { tue: [['09:00', '12:00'], ['13:00']] } }, 'its weekly.tue[1] is not an [opening, closing] pair of times such as ["09:00", "18:00"]'],
      [{ timeZone: 'UTC', weekly: { mon: [['9:00', '18:00']] } }, 'its weekly.mon[0] has "9:00", not a time HH:MM from "00:00" to "24:00"'],
      [{ timeZone: 'UTC', weekly: { mon: [['09:00', '24:30']] } }, 'its weekly.mon[0] has "24:30", not a time HH:MM from "00:00" to "24:00"'],
      [{ timeZone: 'UTC', weekly: { mon: [[900, '18:00']] } }, 'its weekly.mon[0] has 900, not a time HH:MM from "00:00" to "24:00"'],
      [
        { timeZone: 'UTC', weekly: { fri: [['22:00', '02:00']] } },
        'its weekly.fri[0] does not close after it opens ("22:00" to "02:00"): end the day at "24:00" and go on from "00:00" the next day',
      ],
      [
        { timeZone: 'UTC', weekly: { fri: [['09:00', '09:00']] } },
        'its weekly.fri[0] does not close after it opens ("09:00" to "09:00"): end the day at "24:00" and go on from "00:00" the next day',
      ],
      [{ timeZone: 'UTC', weekly: {} }, 'its weekly opens on no day'],
      [{ timeZone: 'UTC', weekly: { mon: [] } }, 'its weekly opens on no day'],
      [{ timeZone: 'UTC', weekly: week, closed: '2026-12-25' }, 'its closed is not a list of dates such as ["2026-12-25"]'],
      [{ timeZone: 'UTC', weekly: week, closed: ['2026-12-25', '2026-02-30'] }, 'its closed[1] "2026-02-30" is not a date YYYY-MM-DD such as "2026-12-25"'],
      [{ timeZone: 'UTC', weekly: week, closed: ['25/12/2026'] }, 'its closed[0] "25/12/2026" is not a date YYYY-MM-DD such as "2026-12-25"'],
    ];
    for (const [value, problem] of cases) {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      const config = handover.readConfig({ ...FLEX, HANDOVER_HOURS: text }, {}, 'flex-handover');
      assert.deepEqual(
        [config.ok, config.statusCode, config.body],
        [
          false,
          500,
          { status: 'failed', error: `HANDOVER_HOURS is set but ${problem}. Set it with \`${SET_HOURS}\` (or in .env for a local run), then call again.` },
        ],
        text
      );
    }
  });

  it('answers 500 for a malformed queue, policy or message, naming it', () => {
    const cases = [
      ['HANDOVER_QUEUE_SID', `WW${'3'.repeat(32)}`, 'is set but is not WQ followed by 32 hex characters. Set it with `twilio serverless:env:set --key HANDOVER_QUEUE_SID --value WQ…`'],
      ['HANDOVER_WHEN_NO_AGENT', 'tell', 'is set but is not queue or answer. Set it with `twilio serverless:env:set --key HANDOVER_WHEN_NO_AGENT --value answer`'],
      ['HANDOVER_UNAVAILABLE_MESSAGE', 'x'.repeat(1601), 'is set but is not text of 1 to 1600 characters. Set it with `twilio serverless:env:set --key HANDOVER_UNAVAILABLE_MESSAGE --value "…"`'],
    ];
    for (const [name, value, error] of cases) {
      const config = handover.readConfig({ ...FLEX, [name]: value }, {}, 'flex-handover');
      assert.deepEqual([config.statusCode, config.body.error], [500, `${name} ${error} (or in .env for a local run), then call again.`]);
    }
  });

  it('is read by flex-handover only', () => {
    const studio = { TWILIO_STUDIO_HANDOFF_FLOW_SID: `FW${'3'.repeat(32)}`, STUDIO_FROM_ADDRESS: '+15551234567', HANDOVER_TOKEN: 't'.repeat(43) };
    const config = handover.readConfig({ ...studio, HANDOVER_HOURS: '{"no": 1}', HANDOVER_QUEUE_SID: 'x', HANDOVER_WHEN_NO_AGENT: 'x' }, {}, 'studio-handover');
    assert.deepEqual([config.ok, config.hours, config.queueSid, config.whenNoAgent], [true, null, null, undefined]);
  });
});

describe('isOpenAt', () => {
  const office = hoursOf(OFFICE);

  it('opens and closes on the wall clock of the time zone, to the second, in winter and in summer', () => {
    // Monday 5 January 2026, Paris on CET (UTC+1): 09:00 to 18:00 is 08:00Z to 17:00Z.
    assert.equal(handover.isOpenAt(office, at('2026-01-05T07:59:59.999Z')), false);
    assert.equal(handover.isOpenAt(office, at('2026-01-05T08:00:00.000Z')), true);
    assert.equal(handover.isOpenAt(office, at('2026-01-05T16:59:59.999Z')), true);
    assert.equal(handover.isOpenAt(office, at('2026-01-05T17:00:00.000Z')), false);
    // Monday 6 July 2026, on CEST (UTC+2): 07:00Z to 16:00Z.
    assert.equal(handover.isOpenAt(office, at('2026-07-06T06:59:59Z')), false);
    assert.equal(handover.isOpenAt(office, at('2026-07-06T07:00:00Z')), true);
    assert.equal(handover.isOpenAt(office, at('2026-07-06T16:00:00Z')), false);
  });

  it("keeps a day's break, a day not given and a closed date closed", () => {
    // Tuesday 6 January: 12:00 to 13:00 in Paris is the break.
    assert.equal(handover.isOpenAt(office, at('2026-01-06T10:59:00Z')), true);
    assert.equal(handover.isOpenAt(office, at('2026-01-06T11:30:00Z')), false);
    assert.equal(handover.isOpenAt(office, at('2026-01-06T12:00:00Z')), true);
    assert.equal(handover.isOpenAt(office, at('2026-01-10T10:00:00Z')), false); // a Saturday
    assert.equal(handover.isOpenAt(office, at('2026-12-25T10:00:00Z')), false); // Christmas, a Friday
    assert.equal(handover.isOpenAt(office, at('2026-12-24T10:00:00Z')), true);
  });

  it('takes the weekday and the closed date of the time zone, not of UTC', () => {
    // 23:30Z on Thursday 24 December is 08:30 on Christmas day in Tokyo, and 18:30 on the 24th in New York.
    const tokyo = hoursOf({ timeZone: 'Asia/Tokyo', weekly: { fri: [['08:00', '20:00']] }, closed: ['2026-12-25'] });
    assert.equal(handover.isOpenAt(tokyo, at('2026-12-24T23:30:00Z')), false);
    assert.equal(handover.isOpenAt(tokyo, at('2027-01-01T00:00:00Z')), true); // Friday 09:00 in Tokyo
    const newYork = hoursOf({ timeZone: 'America/New_York', weekly: { thu: [['18:00', '24:00']] } });
    assert.equal(handover.isOpenAt(newYork, at('2026-12-24T23:30:00Z')), true);
    assert.equal(handover.isOpenAt(newYork, at('2026-12-25T04:59:59Z')), true);
    assert.equal(handover.isOpenAt(newYork, at('2026-12-25T05:00:00Z')), false); // midnight: Friday
    // Offsets of half and three quarters of an hour.
    const kolkata = hoursOf({ timeZone: 'Asia/Kolkata', weekly: { mon: [['09:00', '17:00']] } });
    assert.equal(handover.isOpenAt(kolkata, at('2026-01-05T03:29:00Z')), false);
    assert.equal(handover.isOpenAt(kolkata, at('2026-01-05T03:30:00Z')), true);
    const kathmandu = hoursOf({ timeZone: 'Asia/Kathmandu', weekly: { mon: [['09:00', '17:00']] } });
    assert.equal(handover.isOpenAt(kathmandu, at('2026-01-05T03:14:00Z')), false);
    assert.equal(handover.isOpenAt(kathmandu, at('2026-01-05T03:15:00Z')), true);
  });

  it('runs across midnight from a day ending at 24:00 into the next starting at 00:00', () => {
    const nights = hoursOf({ timeZone: 'UTC', weekly: { fri: [['22:00', '24:00']], sat: [['00:00', '02:00']] } });
    assert.equal(handover.isOpenAt(nights, at('2026-01-09T21:59:59Z')), false);
    assert.equal(handover.isOpenAt(nights, at('2026-01-09T23:59:59Z')), true);
    assert.equal(handover.isOpenAt(nights, at('2026-01-10T00:00:00Z')), true);
    assert.equal(handover.isOpenAt(nights, at('2026-01-10T02:00:00Z')), false);
  });

  it('follows the clock changes: hours the clock skips never open, hours it repeats open twice', () => {
    // Sunday 29 March 2026, Paris springs forward at 01:00Z, from 02:00 to 03:00; Sunday 25 October it goes back at
    // 01:00Z, from 03:00 to 02:00.
    const skipped = hoursOf({ timeZone: 'Europe/Paris', weekly: { sun: [['02:00', '02:59']] } });
    for (const iso of ['2026-03-29T00:59:00Z', '2026-03-29T01:00:00Z', '2026-03-29T01:30:00Z']) {
      assert.equal(handover.isOpenAt(skipped, at(iso)), false, iso);
    }
    const repeated = hoursOf({ timeZone: 'Europe/Paris', weekly: { sun: [['02:30', '02:45']] } });
    assert.deepEqual(
      ['2026-10-25T00:29:00Z', '2026-10-25T00:30:00Z', '2026-10-25T00:50:00Z', '2026-10-25T01:30:00Z', '2026-10-25T01:45:00Z'].map((iso) =>
        handover.isOpenAt(repeated, at(iso))
      ),
      [false, true, false, true, false]
    );
    // Auckland (UTC+13 in its summer) goes back at 03:00 on Sunday 5 April 2026 (14:00Z on the 4th): 09:00 on
    // Monday is 20:00Z on Sunday before, 21:00Z after.
    const auckland = hoursOf({ timeZone: 'Pacific/Auckland', weekly: { mon: [['09:00', '17:00']] } });
    assert.equal(handover.isOpenAt(auckland, at('2026-03-29T20:00:00Z')), true); // NZDT: 09:00 is 20:00Z
    assert.equal(handover.isOpenAt(auckland, at('2026-04-05T20:30:00Z')), false); // NZST: 08:30
    assert.equal(handover.isOpenAt(auckland, at('2026-04-05T21:00:00Z')), true);
  });
});

describe('nextOpeningAfter', () => {
  const office = hoursOf(OFFICE);

  it('is the next opening, later today, after a break, or after the weekend', () => {
    assert.equal(handover.nextOpeningAfter(office, at('2026-01-05T06:00:00Z')), '2026-01-05T08:00:00.000Z');
    assert.equal(handover.nextOpeningAfter(office, at('2026-01-06T11:15:00Z')), '2026-01-06T12:00:00.000Z');
    assert.equal(handover.nextOpeningAfter(office, at('2026-01-09T17:00:00Z')), '2026-01-12T08:00:00.000Z');
    assert.equal(handover.nextOpeningAfter(office, at('2026-01-10T12:00:00Z')), '2026-01-12T08:00:00.000Z');
  });

  it('skips the closed dates', () => {
    // Thursday 24 December after hours: not on Christmas day, but on Monday 28 December.
    assert.equal(handover.nextOpeningAfter(office, at('2026-12-24T18:00:00Z')), '2026-12-28T08:00:00.000Z');
  });

  it('opens at the time of the day it opens, across a clock change', () => {
    // Saturday 28 March, before Paris springs forward: Monday 09:00 is on CEST.
    assert.equal(handover.nextOpeningAfter(office, at('2026-03-28T20:00:00Z')), '2026-03-30T07:00:00.000Z');
    // Friday 23 October, before it goes back: Monday 09:00 is on CET.
    assert.equal(handover.nextOpeningAfter(office, at('2026-10-23T17:00:00Z')), '2026-10-26T08:00:00.000Z');
    // New York springs forward on Sunday 8 March at 07:00Z: 09:00 that day is 13:00Z, 09:00 on Saturday 14:00Z.
    const newYork = hoursOf({ timeZone: 'America/New_York', weekly: { sat: [['09:00', '17:00']], sun: [['09:00', '17:00']] } });
    assert.equal(handover.nextOpeningAfter(newYork, at('2026-03-07T23:00:00Z')), '2026-03-08T13:00:00.000Z');
    assert.equal(handover.nextOpeningAfter(newYork, at('2026-03-06T23:00:00Z')), '2026-03-07T14:00:00.000Z');
  });

  it('opens when the clock springs past an opening time it skips, and at each time it repeats', () => {
    const skipped = hoursOf({ timeZone: 'Europe/Paris', weekly: { sun: [['02:30', '04:00']] } });
    assert.equal(handover.nextOpeningAfter(skipped, at('2026-03-29T00:00:00Z')), '2026-03-29T01:00:00.000Z');
    assert.equal(handover.isOpenAt(skipped, at('2026-03-29T00:59:59Z')), false);
    assert.equal(handover.isOpenAt(skipped, at('2026-03-29T01:00:00Z')), true);
    // Hours that lie whole in the skipped hour never open that day: the next Sunday's is the next opening.
    const never = hoursOf({ timeZone: 'Europe/Paris', weekly: { sun: [['02:00', '02:59']] } });
    assert.equal(handover.nextOpeningAfter(never, at('2026-03-28T12:00:00Z')), '2026-04-05T00:00:00.000Z');
    const repeated = hoursOf({ timeZone: 'Europe/Paris', weekly: { sun: [['02:30', '02:45']] } });
    assert.equal(handover.nextOpeningAfter(repeated, at('2026-10-25T00:00:00Z')), '2026-10-25T00:30:00.000Z');
    assert.equal(handover.nextOpeningAfter(repeated, at('2026-10-25T00:50:00Z')), '2026-10-25T01:30:00.000Z');
  });

  it('is not the midnight that a night running on from the day before goes through', () => {
    const nights = hoursOf({ timeZone: 'UTC', weekly: { fri: [['22:00', '24:00']], sat: [['00:00', '02:00']] } });
    assert.equal(handover.nextOpeningAfter(nights, at('2026-01-09T12:00:00Z')), '2026-01-09T22:00:00.000Z');
    assert.equal(handover.nextOpeningAfter(nights, at('2026-01-09T23:00:00Z')), '2026-01-16T22:00:00.000Z');
    assert.equal(handover.nextOpeningAfter(nights, at('2026-01-10T03:00:00Z')), '2026-01-16T22:00:00.000Z');
  });

  it('looks 14 days ahead, no further: null beyond', () => {
    // Mondays only, the next two closed: the third, 21 days ahead, is too far; the second, 14 days ahead, is not.
    const mondays = { timeZone: 'UTC', weekly: { mon: [['09:00', '17:00']] } };
    const twoClosed = hoursOf({ ...mondays, closed: ['2026-01-12', '2026-01-19'] });
    assert.equal(handover.nextOpeningAfter(twoClosed, at('2026-01-05T17:00:00Z')), null);
    const twoBefore = hoursOf({ ...mondays, closed: ['2026-01-05', '2026-01-12'] });
    assert.equal(handover.nextOpeningAfter(twoBefore, at('2026-01-05T09:00:00Z')), '2026-01-19T09:00:00.000Z'); // 14 days
    assert.equal(handover.nextOpeningAfter(twoBefore, at('2026-01-05T09:00:00Z') - 1), null); // 14 days and 1 ms
  });
});

describe('the no_agent_available answers', () => {
  it('closedAnswer: 200 with the reason, the message and the next opening, only when closed', () => {
    const config = configWith({ HANDOVER_HOURS: JSON.stringify(OFFICE) });
    assert.deepEqual(handover.closedAnswer(config, at('2026-01-09T17:00:00Z')), {
      ok: true,
      statusCode: 200,
      body: { status: 'no_agent_available', reason: 'closed', message: MESSAGE, nextOpening: '2026-01-12T08:00:00.000Z' },
    });
    assert.equal(handover.closedAnswer(config, at('2026-01-09T16:59:59Z')), null);
    assert.equal(handover.closedAnswer(configWith({}), at('2026-01-10T12:00:00Z')), null);
    const far = configWith({ HANDOVER_HOURS: '{"timeZone": "UTC", "weekly": {"mon": [["09:00", "10:00"]]}, "closed": ["2026-01-12", "2026-01-19"]}' });
    assert.equal(handover.closedAnswer(far, at('2026-01-05T10:00:00Z')).body.nextOpening, null);
    const told = configWith({ HANDOVER_HOURS: JSON.stringify(OFFICE), HANDOVER_UNAVAILABLE_MESSAGE: 'We open at nine.' });
    assert.equal(handover.closedAnswer(told, at('2026-01-09T17:00:00Z')).body.message, 'We open at nine.');
  });

  it("noAgentAnswer: 200 with the longest waiting task's age as the wait, when no worker is available and the policy is answer", () => {
    const config = configWith({ HANDOVER_QUEUE_SID: QUEUE, HANDOVER_WHEN_NO_AGENT: 'answer' });
    assert.deepEqual(handover.noAgentAnswer(config, { totalAvailableWorkers: 0, longestTaskWaitingAge: 95 }), {
      ok: true,
      statusCode: 200,
      body: { status: 'no_agent_available', reason: 'no_agent', message: MESSAGE, waitEstimateSeconds: 95 },
    });
    // No task waiting (TaskRouter answers 0), or no age said: no estimate.
    assert.equal(handover.noAgentAnswer(config, { totalAvailableWorkers: 0, longestTaskWaitingAge: 0 }).body.waitEstimateSeconds, null);
    assert.equal(handover.noAgentAnswer(config, { totalAvailableWorkers: 0 }).body.waitEstimateSeconds, null);
    // A worker available, or the statistics not saying: hand off.
    assert.equal(handover.noAgentAnswer(config, { totalAvailableWorkers: 1, longestTaskWaitingAge: 95 }), null);
    assert.equal(handover.noAgentAnswer(config, { longestTaskWaitingAge: 95 }), null);
    assert.equal(handover.noAgentAnswer(config, undefined), null);
    // The policy queue hands off anyway.
    const queueing = configWith({ HANDOVER_QUEUE_SID: QUEUE });
    assert.equal(handover.noAgentAnswer(queueing, { totalAvailableWorkers: 0, longestTaskWaitingAge: 95 }), null);
  });

  it('hoursAt: open, or closed with the next opening', () => {
    const office = hoursOf(OFFICE);
    assert.deepEqual(handover.hoursAt(office, at('2026-01-05T08:00:00Z')), { open: true });
    assert.deepEqual(handover.hoursAt(office, at('2026-01-05T17:00:00Z')), { open: false, nextOpening: '2026-01-06T08:00:00.000Z' });
  });
});
