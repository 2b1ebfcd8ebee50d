// Pure helpers of the handover tools: reading the AI agent's request and the configuration, building the
// Flex Interactions and Studio Executions requests, the claim, the retries, the opening hours and the answers.
// No I/O and no work on require.
//
// The module is a factory of the contract, the values Python owns (assets/tools/contract.private.js,
// generated from py/handover/contract.py): a function requires both through Runtime.getAssets() and calls
// `handoverHelpers(contract)`, since deployed assets cannot require one another by a relative path. The
// helpers that need no contract value are plain functions beside the factory; it returns them all.
'use strict';

const crypto = require('crypto');

const CONVERSATION_SESSION = /^(?:webhook:)?conversations__(IS[0-9a-fA-F]{32})\/(CH[0-9a-fA-F]{32})$/;
const WEBCHAT_IDENTITY = /^FX[0-9A-Za-z]{1,64}$/;
const IDENTITY_TYPES = ['phone', 'whatsapp', 'email', 'user_id', 'flex_participant'];
// The attributes that record the handoff on the conversation.
const MARK_KEYS = ['handedOff', 'handedOffAt', 'handoffClaimId', 'handoffBotWebhooks'];
// Sync's answer to a second create of a Map item key.
const DUPLICATE_KEY = { status: 409, code: 54208 };
const EXECUTION_SEARCH_MARGIN_MS = 60 * 1000;
const EXECUTION_SEARCH_LIMIT = 20;
// The opening hours (HANDOVER_HOURS): its keys, the days of the week as Date#getUTCDay numbers them (and as an
// error lists them), a time of day HH:MM from 00:00 to 24:00, a date YYYY-MM-DD, and how far ahead the next
// opening is looked for.
const HOURS_KEYS = ['timeZone', 'weekly', 'closed'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const DAYS_LISTED = 'mon, tue, wed, thu, fri, sat, sun';
const TIME_OF_DAY = /^(?:([01][0-9]|2[0-3]):([0-5][0-9])|(24):(00))$/;
const CALENDAR_DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const NEXT_OPENING_DAYS = 14;
const MINUTE_MS = 60 * 1000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** A failure the caller can act on: an HTTP status and the `{status, error}` body. */
function failure(statusCode, error, extra = {}) {
  return { ok: false, statusCode, body: { status: statusCode >= 500 ? 'failed' : 'rejected', error, ...extra } };
}

/** Quote a caller-supplied value for an error message, short and printable. */
function quote(value) {
  const text = String(value);
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

/** The value of a request header; `event.request.headers` has lower-case names. */
function headerOf(event, name) {
  const headers = (event && event.request && event.request.headers) || {};
  return headers[name];
}

/** The object a JSON text holds, or null when it holds anything else or does not parse. */
function parseObject(text) {
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/** Text cut to a number of characters (code points, so no emoji is split in half). */
function cut(text, limit) {
  const characters = Array.from(text);
  return characters.length > limit ? characters.slice(0, limit).join('') : text;
}

/** Compare secrets in constant time: the SHA-256 digests have one length whatever was given. */
function sameSecret(given, expected) {
  const digest = (text) => crypto.createHash('sha256').update(text, 'utf8').digest();
  return crypto.timingSafeEqual(digest(given), digest(expected));
}

/** The URL Twilio signs for this function: the deployment's domain and the function's path. */
function signedUrl(context) {
  return `https://${context.DOMAIN_NAME}${context.PATH}`;
}

/** The request's parameters as Twilio signs them: every form parameter, without the runtime's `request`. */
function signedParameters(event) {
  const parameters = {};
  for (const [name, value] of Object.entries(event || {})) {
    if (name !== 'request') parameters[name] = value;
  }
  return parameters;
}

/**
 * Whether the request is Twilio's: a valid X-Twilio-Signature made with the account's auth token over this
 * function's URL and the request's parameters (`validateSignature` is the twilio library's validateRequest).
 * `{ ok }`, else a 401 that echoes nothing. The one check of every function Twilio calls: the local runtime
 * serves a protected function without checking it, so the function does, and protected visibility is the
 * deployed second gate.
 */
function checkSignature({ context, event, validateSignature }) {
  const signature = headerOf(event, 'x-twilio-signature');
  if (signature === undefined || signature === '') {
    return failure(401, 'This function answers Twilio only: the request has no X-Twilio-Signature.');
  }
  const valid =
    typeof signature === 'string' &&
    typeof context.AUTH_TOKEN === 'string' &&
    context.AUTH_TOKEN !== '' &&
    validateSignature(context.AUTH_TOKEN, signature, signedUrl(context), signedParameters(event));
  return valid ? { ok: true } : failure(401, 'The X-Twilio-Signature is not valid for this URL and these parameters.');
}

/** The Conversations service and conversation of the `X-Session-Id` header. */
function parseSession(value) {
  if (value === undefined || value === '') {
    return failure(400, 'The X-Session-Id header is missing. Call this tool from an AI agent on a Conversations channel; it sends conversations__IS…/CH….');
  }
  if (Array.isArray(value)) {
    return failure(400, 'The X-Session-Id header was sent more than once; send it once.');
  }
  const match = CONVERSATION_SESSION.exec(value);
  if (!match) {
    return failure(
      400,
      `The X-Session-Id header ${quote(value)} is not a Conversations session. ` +
        'This tool hands off Conversations only and expects conversations__IS<32 hex>/CH<32 hex>, optionally prefixed with webhook:.'
    );
  }
  return { ok: true, serviceSid: match[1], conversationSid: match[2] };
}

/** What the human agent sees the customer called: the web chat name, else the address. */
function displayNameOf(identity, customerName) {
  return customerName || identity.address || 'Customer';
}

/**
 * The Studio Executions request that starts the handoff flow, its Parameters in Twilio Agent Connect's
 * HandoffData shape, so that one flow serves TAC and the AI agent alike. `To` is the customer (the
 * conversation itself when the customer is unknown: Studio needs a contact), `From` the configured address.
 */
function buildExecution({ config, session, identity, customerName, handoff }) {
  return {
    to: identity.address || session.conversationSid,
    from: config.fromAddress,
    parameters: {
      HandoffData: {
        conversationId: session.conversationSid,
        storeId: '',
        profileId: '',
        // The configured static attributes first: the keys this function sets win over them.
        attributes: {
          ...config.staticAttributes,
          reason: handoff.reason,
          summary: handoff.summary,
          conversationSid: session.conversationSid,
          conversationServiceSid: session.serviceSid,
          channelType: identity.channelType,
          customerAddress: identity.address,
          customerName: displayNameOf(identity, customerName),
          source: handoff.source,
          requestedAt: handoff.requestedAt,
        },
      },
    },
  };
}

/**
 * Where to look for the execution of this very handoff, should its create's answer be lost: the flow's
 * executions since a minute before the handoff began (the minute allows for clocks that differ).
 */
function executionSearchOf(handoff) {
  return { dateCreatedFrom: new Date(Date.parse(handoff.requestedAt) - EXECUTION_SEARCH_MARGIN_MS), limit: EXECUTION_SEARCH_LIMIT };
}

/** Whether a Studio execution's context (its flow.data is the Parameters) is that of this very handoff. */
function isExecutionOf(executionContext, { session, handoff }) {
  const attributes = executionContext?.flow?.data?.HandoffData?.attributes;
  return Boolean(attributes) && attributes.conversationSid === session.conversationSid && attributes.requestedAt === handoff.requestedAt;
}

/** When a claim was made: its requestedAt, else when Sync created it; NaN when neither says. */
function claimedAtMs(item) {
  const requestedAt = Date.parse(item && item.data && item.data.requestedAt);
  return Number.isNaN(requestedAt) ? Date.parse(item && item.dateCreated) : requestedAt;
}

/**
 * The conversation's attributes with the handoff recorded (handedOff, handedOffAt and the claim that
 * makes it, written beside the delivery, before its SID is known), every attribute already there kept.
 * `botWebhooks` (botWebhooksOf) are the bot's webhooks the handoff removes, kept whole so that the
 * hand-back can make them again; an earlier handoff's list gives way to them.
 */
function handedOffAttributes(current, claim, botWebhooks = []) {
  const attributes = parseObject(current || '{}') || {};
  delete attributes.handoffBotWebhooks;
  const marked = { ...attributes, handedOff: true, handedOffAt: claim.item.data.requestedAt, handoffClaimId: claim.item.data.claimId };
  return botWebhooks.length ? { ...marked, handoffBotWebhooks: botWebhooks } : marked;
}

/**
 * The conversation's webhooks that deliver its messages to a bot: target `webhook` to a URL of the bot's
 * own. Studio's (target `studio`, or a URL of Twilio's, as Flex's and Studio's webhooks are) are never
 * the bot's. Each as `{ sid, target, configuration }`, the configuration whole as Twilio answered it.
 */
function botWebhooksOf(webhooks) {
  return webhooks
    .filter((webhook) => webhook.target === 'webhook' && !isTwilioUrl(webhook.configuration && webhook.configuration.url))
    .map((webhook) => ({ sid: webhook.sid, target: webhook.target, configuration: { ...webhook.configuration } }));
}

function isTwilioUrl(url) {
  let host;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === 'twilio.com' || host.endsWith('.twilio.com');
}

/**
 * The request that makes a saved webhook again, as the Conversations API describes it. Without its ReplayAfter:
 * made again, it would replay the conversation's messages to the bot, which would answer them twice.
 */
function webhookRequestOf(saved) {
  const { url, method, filters, triggers, flow_sid: flowSid } = saved.configuration;
  const request = { target: saved.target, 'configuration.url': url };
  // Twilio describes the method in lower case (get, post), whatever case a webhook answers it in.
  if (method) request['configuration.method'] = String(method).toLowerCase();
  if (filters && filters.length) request['configuration.filters'] = filters;
  if (triggers && triggers.length) request['configuration.triggers'] = triggers;
  if (flowSid) request['configuration.flowSid'] = flowSid;
  return request;
}

/** The saved webhooks that `existing` (the conversation's webhooks now) lacks: same target, URL, method and filters. */
function missingWebhooks(saved, existing) {
  const keyOf = (target, configuration = {}) =>
    JSON.stringify([target, configuration.url, String(configuration.method || '').toUpperCase(), [...(configuration.filters || [])].sort()]);
  const present = new Set(existing.map((webhook) => keyOf(webhook.target, webhook.configuration)));
  return saved.filter((webhook) => !present.has(keyOf(webhook.target, webhook.configuration)));
}

/**
 * The attributes after a failed handoff took its record back: `current` without what `claim` recorded,
 * the record that `before` held (an older handoff's) restored; null when `current` records another claim.
 */
function unmarkedAttributes(current, before, claim) {
  const attributes = parseObject(current || '{}') || {};
  if (attributes.handoffClaimId !== claim.item.data.claimId) return null;
  const previous = parseObject(before || '{}') || {};
  for (const key of MARK_KEYS) {
    if (key in previous) attributes[key] = previous[key];
    else delete attributes[key];
  }
  return attributes;
}

/** A Twilio request's failure that may pass if tried again: throttling, a server error, or no answer at all. */
function isRetryable(error) {
  const status = error && error.status;
  return typeof status !== 'number' || status === 429 || status >= 500;
}

/** Whether Twilio may have done the work of a failed request: it answered with a server error, or not at all. */
function mayHaveSucceeded(error) {
  const status = error && error.status;
  return typeof status !== 'number' || status >= 500;
}

/** The time left until the answer is due. */
function deadlineOf(startedAt, config) {
  return { remainingMs: () => startedAt + config.deadlineMs - Date.now(), attemptMs: config.attemptTimeoutMs };
}

/**
 * Raised when no attempt is left before the deadline. `cause` is the last failure; `unsettled` says
 * that the work may have been done although no answer said so.
 */
class OutOfTime extends Error {
  constructor(cause, unsettled) {
    super(`no time left to try again: ${(cause && cause.message) || 'no answer from Twilio'}`);
    this.cause = cause;
    this.unsettled = unsettled;
  }
}

/** `settle()`, once a request that got no answer has surely ended; OutOfTime when that is too late. */
async function settleWhenEnded(settle, unsettled, deadline, reserveMs) {
  const answered = typeof unsettled.error.status === 'number';
  const wait = answered ? 0 : unsettled.startedAt + 2 * deadline.attemptMs - Date.now();
  if (wait > 0) {
    if (deadline.remainingMs() - reserveMs < wait + deadline.attemptMs) throw new OutOfTime(unsettled.error, true);
    await sleep(wait);
  }
  return settle();
}

function sleep(milliseconds) {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/**
 * The opening hours of a HANDOVER_HOURS object: `{ ok, hours: { timeZone, days, closed } }`, `days` the
 * opening periods of each day of the week (mon … sun) as [opening, closing) minutes past midnight, in order, a
 * day not given closed; else `{ ok: false, problem }`, what is wrong, to follow "HANDOVER_HOURS is set but".
 * A period ends on its day (at "24:00" at the latest): hours past midnight go on the next day from "00:00".
 */
function parseHours(given) {
  const unknown = Object.keys(given).find((key) => !HOURS_KEYS.includes(key));
  if (unknown !== undefined) return notHours(`its key ${quote(unknown)} is not one of ${HOURS_KEYS.join(', ')}`);
  const { timeZone, weekly, closed = [] } = given;
  if (timeZone === undefined) return notHours('it has no timeZone, an IANA time zone such as "Europe/Paris"');
  if (typeof timeZone !== 'string' || !isTimeZone(timeZone)) {
    return notHours(`its timeZone ${shown(timeZone)} is not an IANA time zone such as "Europe/Paris"`);
  }
  if (weekly === null || typeof weekly !== 'object' || Array.isArray(weekly)) {
    return notHours('its weekly is not an object of days such as {"mon": [["09:00", "18:00"]]}');
  }
  const days = Object.fromEntries(WEEKDAYS.map((day) => [day, []]));
  for (const [day, periods] of Object.entries(weekly)) {
    if (!WEEKDAYS.includes(day)) return notHours(`its weekly day ${quote(day)} is not one of ${DAYS_LISTED}`);
    if (!Array.isArray(periods)) {
      return notHours(`its weekly.${day} is not a list of [opening, closing] times such as [["09:00", "18:00"]]`);
    }
    for (const [index, period] of periods.entries()) {
      const where = `its weekly.${day}[${index}]`;
      if (!Array.isArray(period) || period.length !== 2) {
        return notHours(`${where} is not an [opening, closing] pair of times such as ["09:00", "18:00"]`);
      }
      const [opens, closes] = period.map(minutesOf);
      const wrong = [opens, closes].indexOf(null);
      if (wrong !== -1) return notHours(`${where} has ${shown(period[wrong])}, not a time HH:MM from "00:00" to "24:00"`);
      if (closes <= opens) {
        return notHours(
          `${where} does not close after it opens (${quote(period[0])} to ${quote(period[1])}): ` +
            'end the day at "24:00" and go on from "00:00" the next day'
        );
      }
      days[day].push([opens, closes]);
    }
    days[day].sort((first, second) => first[0] - second[0]);
  }
  if (WEEKDAYS.every((day) => days[day].length === 0)) return notHours('its weekly opens on no day');
  if (!Array.isArray(closed)) return notHours('its closed is not a list of dates such as ["2026-12-25"]');
  const wrongDate = closed.findIndex((date) => !isCalendarDate(date));
  if (wrongDate !== -1) {
    return notHours(`its closed[${wrongDate}] ${shown(closed[wrongDate])} is not a date YYYY-MM-DD such as "2026-12-25"`);
  }
  return { ok: true, hours: { timeZone, days, closed: [...closed] } };
}

function notHours(problem) {
  return { ok: false, problem };
}

/** A value of the configuration for an error message: text quoted, anything else as JSON. */
function shown(value) {
  return typeof value === 'string' ? quote(value) : cut(String(JSON.stringify(value)), 60);
}

function isTimeZone(timeZone) {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** Minutes past midnight of a time of day "HH:MM" ("24:00" is the end of the day), or null. */
function minutesOf(time) {
  const match = typeof time === 'string' ? TIME_OF_DAY.exec(time) : null;
  if (!match) return null;
  return match[3] ? 24 * 60 : Number(match[1]) * 60 + Number(match[2]);
}

function isCalendarDate(text) {
  const match = typeof text === 'string' ? CALENDAR_DATE.exec(text) : null;
  if (!match) return false;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return date.getUTCFullYear() === Number(match[1]) && date.getUTCMonth() === Number(match[2]) - 1 && date.getUTCDate() === Number(match[3]);
}

function dateText({ year, month, day }) {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

// One formatter per time zone, made when first needed.
const wallClocks = new Map();

/** The wall clock of `timeZone` at an instant: its date, and the minutes and seconds past its midnight. */
function wallClockOf(timeZone, ms) {
  if (!wallClocks.has(timeZone)) {
    const fields = { year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' };
    wallClocks.set(timeZone, new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', ...fields }));
  }
  const parts = {};
  for (const { type, value } of wallClocks.get(timeZone).formatToParts(ms)) parts[type] = Number(value);
  return { year: parts.year, month: parts.month, day: parts.day, minutes: parts.hour * 60 + parts.minute, second: parts.second };
}

/** The wall clock of `timeZone` at an instant, as the milliseconds of that reading in UTC (to the second). */
function wallClockMs(timeZone, ms) {
  const wall = wallClockOf(timeZone, ms);
  return Date.UTC(wall.year, wall.month - 1, wall.day, 0, wall.minutes, wall.second);
}

/** The offset of `timeZone` from UTC at an instant, in milliseconds. */
function offsetAt(timeZone, ms) {
  return wallClockMs(timeZone, ms) - (ms - (((ms % 1000) + 1000) % 1000));
}

/**
 * The instants at which the wall clock of `timeZone` reads `minutes` past the midnight of `date`, in order:
 * one, or two when the clock goes back over it; when the clock springs forward over it, the instant it does.
 */
function instantsAt(timeZone, date, minutes) {
  const wall = Date.UTC(date.year, date.month - 1, date.day, 0, minutes);
  const offsets = [...new Set([wall - DAY_MS, wall, wall + DAY_MS].map((probe) => offsetAt(timeZone, probe)))];
  const instants = offsets.map((offset) => wall - offset).filter((instant) => offsetAt(timeZone, instant) === wall - instant);
  if (instants.length) return [...new Set(instants)].sort((first, second) => first - second);
  // Skipped: the first instant whose wall clock reads it or later, between the offsets before and after.
  let before = wall - Math.max(...offsets);
  let after = wall - Math.min(...offsets);
  while (after - before > MINUTE_MS) {
    const middle = before + Math.max(1, Math.floor((after - before) / 2 / MINUTE_MS)) * MINUTE_MS;
    if (wallClockMs(timeZone, middle) >= wall) after = middle;
    else before = middle;
  }
  return [after];
}

/** Whether the opening hours are open at an instant: its date not closed, its time in a period of its day. */
function isOpenAt(hours, ms) {
  const wall = wallClockOf(hours.timeZone, ms);
  if (hours.closed.includes(dateText(wall))) return false;
  const weekday = WEEKDAYS[new Date(Date.UTC(wall.year, wall.month - 1, wall.day)).getUTCDay()];
  return hours.days[weekday].some(([opens, closes]) => opens <= wall.minutes && wall.minutes < closes);
}

/** When the opening hours next open after an instant, as ISO 8601 UTC; null when not within NEXT_OPENING_DAYS days. */
function nextOpeningAfter(hours, ms) {
  const today = wallClockOf(hours.timeZone, ms);
  const latest = ms + NEXT_OPENING_DAYS * DAY_MS;
  let next = null;
  // Local days to the one NEXT_OPENING_DAYS days ahead, and one more: the clock may have moved forward meanwhile.
  for (let ahead = 0; ahead <= NEXT_OPENING_DAYS + 1; ahead += 1) {
    const day = new Date(Date.UTC(today.year, today.month - 1, today.day + ahead));
    const date = { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate() };
    if (hours.closed.includes(dateText(date))) continue;
    for (const [opens] of hours.days[WEEKDAYS[day.getUTCDay()]]) {
      for (const instant of instantsAt(hours.timeZone, date, opens)) {
        // Neither a period the clock skips whole, nor one that goes on from the day before, opens there.
        const opening = isOpenAt(hours, instant) && !isOpenAt(hours, instant - 1);
        if (instant > ms && instant <= latest && (next === null || instant < next) && opening) next = instant;
      }
    }
  }
  return next === null ? null : new Date(next).toISOString();
}

/** The opening hours at an instant: `{ open: true }`, or `{ open: false, nextOpening }` (ISO 8601 UTC, or null). */
function hoursAt(hours, ms) {
  return isOpenAt(hours, ms) ? { open: true } : { open: false, nextOpening: nextOpeningAfter(hours, ms) };
}

/**
 * The 200 answer of a call that hands nothing off because no one can take the conversation: `reason` closed
 * (outside HANDOVER_HOURS) or no_agent (no available worker in HANDOVER_QUEUE_SID), with what says when.
 */
function noAgentAvailable(config, reason, details) {
  return { ok: true, statusCode: 200, body: { status: 'no_agent_available', reason, message: config.unavailableMessage, ...details } };
}

/** The answer of a call outside the opening hours, with the next opening; null when open or without hours. */
function closedAnswer(config, ms) {
  if (!config.hours) return null;
  const now = hoursAt(config.hours, ms);
  return now.open ? null : noAgentAvailable(config, 'closed', { nextOpening: now.nextOpening });
}

/**
 * The answer of a call whose queue has no available worker (TaskRouter's real-time statistics of it), with the
 * age of its longest waiting task as the wait to expect (null when none waits); null when a worker is available,
 * when the statistics do not say, or when HANDOVER_WHEN_NO_AGENT is queue.
 */
function noAgentAnswer(config, statistics) {
  if (config.whenNoAgent !== 'answer' || !statistics || statistics.totalAvailableWorkers !== 0) return null;
  const age = statistics.longestTaskWaitingAge;
  return noAgentAvailable(config, 'no_agent', { waitEstimateSeconds: Number.isInteger(age) && age > 0 ? age : null });
}

/** Whether a failed claim means another call claimed the conversation first. */
function isClaimedAlready(error) {
  return Boolean(error) && error.status === DUPLICATE_KEY.status && error.code === DUPLICATE_KEY.code;
}

/**
 * The helpers of one contract (assets/tools/contract.private.js): the ones above, and those that read
 * the contract's configuration variables, limits, claim, token names and messages.
 */
function handoverHelpers(contract) {
  const { CONFIG } = contract;
  const tokenHeader = contract.TOKEN_HEADER.toLowerCase();

  /** One configuration value: a well-formed per-request override, else the environment variable. */
  function configValue(context, event, name) {
    const spec = CONFIG[name];
    const override = spec.requestOverride ? event[spec.requestOverride] : undefined;
    if (override !== undefined && override !== '') {
      if (typeof override !== 'string' || !spec.pattern.test(override)) {
        return failure(400, `${spec.requestOverride} must be ${spec.expected}, got ${quote(override)}.`);
      }
      return { ok: true, value: override };
    }
    const value = context[name];
    if (value === undefined || value === '') {
      if (spec.defaultValue !== null) return { ok: true, value: spec.defaultValue };
      return failure(500, `${name} is not set on this Functions environment. ${howToSet(name)}`);
    }
    if (!spec.pattern.test(value)) {
      return failure(500, `${name} is set but is not ${spec.expected}. ${howToSet(name)}`);
    }
    return { ok: true, value };
  }

  function howToSet(name) {
    return `Set it with \`${CONFIG[name].setBy}\` (or in .env for a local run), then call again.`;
  }

  /**
   * The configuration of a tool ('flex-handover', 'studio-handover' or 'task-events'): only the variables it reads, so
   * that it runs without the other's. What it does not read is undefined. The token is read before
   * (readToken), the static attributes last, as they are parsed too.
   */
  function readConfig(context, event, tool) {
    const checkedFirst = Object.keys(CONFIG).filter(
      (name) => CONFIG[name].tools.includes(tool) && name !== 'HANDOVER_TOKEN' && name !== 'HANDOVER_ATTRIBUTES'
    );
    const values = {};
    for (const name of [...checkedFirst, 'HANDOVER_ATTRIBUTES']) {
      const result = configValue(context, event, name);
      if (!result.ok) return result;
      values[name] = result.value;
    }
    const staticAttributes = parseObject(values.HANDOVER_ATTRIBUTES);
    if (staticAttributes === null) {
      return failure(500, `HANDOVER_ATTRIBUTES is set but is not ${CONFIG.HANDOVER_ATTRIBUTES.expected}. ${howToSet('HANDOVER_ATTRIBUTES')}`);
    }
    // The opening hours, read whole: their pattern only says that they look like an object.
    let hours = null;
    if (values.HANDOVER_HOURS) {
      const given = parseObject(values.HANDOVER_HOURS);
      const read = given === null ? notHours(`is not ${CONFIG.HANDOVER_HOURS.expected}`) : parseHours(given);
      if (!read.ok) return failure(500, `HANDOVER_HOURS is set but ${read.problem}. ${howToSet('HANDOVER_HOURS')}`);
      hours = read.hours;
    }
    return {
      ok: true,
      workspaceSid: values.FLEX_WORKSPACE_SID,
      workflowSid: values.FLEX_WORKFLOW_SID,
      taskChannel: values.FLEX_TASK_CHANNEL,
      flowSid: values.TWILIO_STUDIO_HANDOFF_FLOW_SID,
      fromAddress: values.STUDIO_FROM_ADDRESS,
      syncServiceSid: values.SYNC_SERVICE_SID,
      deadlineMs: Number(values.HANDOVER_DEADLINE_MS),
      attemptTimeoutMs: Number(values.HANDOVER_ATTEMPT_TIMEOUT_MS),
      handBackMessage: values.HANDBACK_MESSAGE,
      noAgentMessage: values.NO_AGENT_MESSAGE,
      staticAttributes,
      hours,
      queueSid: values.HANDOVER_QUEUE_SID || null,
      whenNoAgent: values.HANDOVER_WHEN_NO_AGENT,
      unavailableMessage: values.HANDOVER_UNAVAILABLE_MESSAGE,
    };
  }

  /** The deployment's handover token: a 500 naming the fix when it is missing or malformed. */
  function readToken(context, event) {
    const result = configValue(context, event, 'HANDOVER_TOKEN');
    return result.ok ? { ok: true, token: result.value } : result;
  }

  /**
   * Whether the caller may hand off: it presents the deployment's handover token (the `token` query
   * parameter or the X-Handover-Token header), or a valid X-Twilio-Signature made with the account's
   * auth token. `validateSignature` is the twilio library's validateRequest. Nothing secret is echoed.
   */
  function authenticate({ context, event, token, validateSignature }) {
    const presented = [event[contract.TOKEN_QUERY_PARAMETER], headerOf(event, tokenHeader)].filter(
      (value) => value !== undefined && value !== ''
    );
    if (presented.length > 0) {
      const valid = presented.every((value) => typeof value === 'string' && sameSecret(value, token));
      return valid
        ? { ok: true }
        : failure(401, 'The handover token is not valid. Call the tool URL that `handover tool register` registered, with its current token.');
    }
    if (headerOf(event, 'x-twilio-signature')) return checkSignature({ context, event, validateSignature });
    return failure(
      401,
      `This tool needs a credential: the ${contract.TOKEN_QUERY_PARAMETER} query parameter of the tool URL, ` +
        `the ${contract.TOKEN_HEADER} header, or a valid X-Twilio-Signature.`
    );
  }

  /**
   * The AI's account of the handoff: `reason` and `summary`, strings cut to their limits. A missing one
   * is empty: a customer who asked for a human is never kept from one for want of a reason.
   */
  function parseContext(event) {
    // The runtime spreads a JSON array body into numbered keys; a tool's input is always an object.
    if (Object.keys(event).some((name) => /^\d+$/.test(name))) {
      return failure(400, 'The request body must be a JSON object with the fields reason and summary, not an array.');
    }
    const fields = {};
    for (const [name, limit] of [['reason', contract.MAX_REASON_LENGTH], ['summary', contract.MAX_SUMMARY_LENGTH]]) {
      const value = event[name];
      if (value === undefined || value === null) {
        fields[name] = '';
      } else if (typeof value === 'string') {
        fields[name] = cut(value, limit);
      } else {
        const kind = Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
        return failure(400, `The field ${name} must be a string, got ${kind}.`);
      }
    }
    return { ok: true, reason: fields.reason, summary: fields.summary };
  }

  /** The customer's identity from the `X-Identity` header: `type:value` or a bare value. */
  function parseIdentity(value) {
    const raw = typeof value === 'string' ? value.slice(0, contract.MAX_IDENTITY_LENGTH) : '';
    const separator = raw.indexOf(':');
    const prefix = separator > 0 ? raw.slice(0, separator).toLowerCase() : '';
    const type = IDENTITY_TYPES.includes(prefix) ? prefix : '';
    const address = type ? raw.slice(separator + 1) : raw;
    if (type === 'whatsapp') {
      const from = address.startsWith('whatsapp:') ? address : `whatsapp:${address}`;
      return { channelType: 'whatsapp', address: from, raw };
    }
    if (type === 'phone' || (!type && address.startsWith('+'))) {
      return { channelType: 'sms', address, raw };
    }
    if (type === 'flex_participant' || (!type && address.startsWith('FX'))) {
      return { channelType: 'web', address, raw, lookupIdentity: WEBCHAT_IDENTITY.test(address) ? address : null };
    }
    return { channelType: 'chat', address: raw, raw };
  }

  /** The Interactions API request that hands the conversation to Flex. */
  function buildInteraction({ config, session, identity, customerName, handoff }) {
    const name = displayNameOf(identity, customerName);
    return {
      channel: {
        type: identity.channelType,
        initiated_by: 'customer',
        properties: { media_channel_sid: session.conversationSid },
      },
      routing: {
        properties: {
          workspace_sid: config.workspaceSid,
          workflow_sid: config.workflowSid,
          task_channel_unique_name: config.taskChannel,
          // The configured static attributes first: the keys this function sets win over them, and
          // the AI's words stay under one key of their own.
          attributes: {
            ...config.staticAttributes,
            from: name,
            customerName: name,
            customerAddress: identity.address,
            conversationSid: session.conversationSid,
            // The hand-back finds the conversation by it when the task ends (assets/lifecycle/handback.private.js).
            conversationServiceSid: session.serviceSid,
            channelType: identity.channelType,
            [contract.HANDOFF_ATTRIBUTE]: handoff,
          },
        },
      },
    };
  }

  /** The TaskRouter expression that finds the task of this very handoff, should its interaction's answer be lost. */
  function taskSearchOf({ session, handoff }) {
    return (
      `conversationSid == ${JSON.stringify(session.conversationSid)} AND ` +
      `${contract.HANDOFF_ATTRIBUTE}.requestedAt == ${JSON.stringify(handoff.requestedAt)}`
    );
  }

  /**
   * The Sync Map of a conversation's claim: one of CLAIM_SHARDS, by the first 4 bytes of the SHA-256
   * of its SID, so that an account's handoffs spread over as many objects (Sync limits each one's rate).
   */
  function claimMapOf(conversationSid) {
    const shard = crypto.createHash('sha256').update(conversationSid, 'utf8').digest().readUInt32BE(0) % contract.CLAIM_SHARDS;
    return `${contract.CLAIM_MAP_PREFIX}${String(shard).padStart(2, '0')}`;
  }

  /**
   * Where the conversation's claim lives, and the Sync Map item that claims it for the day. `claimId`
   * tells this call's claim from another's when a create whose answer was lost is tried again.
   */
  function claimOf({ config, session, handoff }) {
    return {
      serviceSid: config.syncServiceSid,
      map: claimMapOf(session.conversationSid),
      item: {
        key: session.conversationSid,
        data: { claimId: crypto.randomUUID(), requestedAt: handoff.requestedAt, source: handoff.source },
        itemTtl: contract.CLAIM_TTL_SECONDS,
      },
    };
  }

  /**
   * Whether a claim the conversation does not record was left by a call that stopped before it delivered:
   * it is older than any call can run. A claim whose age is unknown counts as stranded.
   */
  function isStranded(item, nowMs) {
    const claimedAt = claimedAtMs(item);
    return Number.isNaN(claimedAt) || nowMs - claimedAt >= contract.CLAIM_STRANDED_AFTER_SECONDS * 1000;
  }

  /**
   * The conversation's record of a handoff of the last day, `{ claimId }`, or null when it has none. A
   * record of an earlier version of this function names what it delivered instead: its claimId is null.
   */
  function handoffRecordOf(current, nowMs) {
    const attributes = parseObject(current || '{}') || {};
    const handedOffAt = Date.parse(attributes.handedOffAt);
    const recent =
      attributes.handedOff === true && !Number.isNaN(handedOffAt) && nowMs - handedOffAt < contract.CLAIM_TTL_SECONDS * 1000;
    return recent ? { claimId: typeof attributes.handoffClaimId === 'string' ? attributes.handoffClaimId : null } : null;
  }

  /** The wait before retry number `retry` (0 for the first): exponential, capped, with full jitter. */
  function backoffMs(retry) {
    return Math.floor(Math.random() * Math.min(contract.RETRY_CAP_MS, contract.RETRY_BASE_MS * 2 ** retry));
  }

  /**
   * Run `attempt` until it succeeds, fails for good (a 4xx other than 429), or no further attempt can
   * finish before the deadline less `reserveMs`. After a failure that may have done the work anyway,
   * nothing is attempted again until `settle()` has answered: a value other than undefined is the
   * result (the work was done), undefined means it was not; a failing `settle` is asked again later.
   * A request that got no answer may still be running at Twilio, so `settle` is asked only once the
   * attempt began two attempt timeouts ago, when that request has ended one way or the other.
   */
  async function withRetries(attempt, deadline, { reserveMs = 0, settle } = {}) {
    let unsettled = null; // the failed attempt whose outcome is not known: { error, startedAt }
    for (let retry = 0; ; retry += 1) {
      let failed;
      let startedAt = Date.now();
      try {
        if (unsettled) {
          const settled = await settleWhenEnded(settle, unsettled, deadline, reserveMs);
          if (settled !== undefined) return settled;
          unsettled = null;
          startedAt = Date.now();
        }
        return await attempt();
      } catch (error) {
        failed = error;
      }
      if (failed instanceof OutOfTime) throw failed;
      if (!unsettled && !isRetryable(failed)) throw failed;
      if (!unsettled && settle && mayHaveSucceeded(failed)) unsettled = { error: failed, startedAt };
      const wait = backoffMs(retry);
      if (deadline.remainingMs() - reserveMs < wait + deadline.attemptMs) throw new OutOfTime(failed, Boolean(unsettled));
      await sleep(wait);
    }
  }

  /** The 503 answer of a call that handed nothing off, when a retry may: `error` says why. */
  function tryAgain(error) {
    return failure(503, error, { retryable: true, message: contract.TRY_AGAIN_MESSAGE });
  }

  /** The 503 answer when Twilio could not be reached in time: nothing was handed off, and a retry may work. */
  function outOfTime(error, what) {
    return tryAgain(`${what} did not succeed in time: ${(error.cause && error.cause.message) || error.message}`);
  }

  /**
   * The 200 answer to a call for a conversation that is handed off already, with the SID of what was
   * delivered under `sidName` (interactionSid, executionSid) when this instance knows it.
   */
  function alreadyHandedOff(sidName, sid) {
    const body = { status: 'already_handed_off', message: contract.ALREADY_HANDED_OFF_MESSAGE };
    if (sid) body[sidName] = sid;
    return { ok: true, statusCode: 200, body };
  }

  /** The 502 answer for a failed Twilio API call, with Twilio's error code and message, and the fix when one is known. */
  function twilioFailure(error, what, fix = '') {
    // Twilio's error codes are numbers; Node's network errors carry strings such as ECONNRESET.
    const code = error && typeof error.code === 'number' ? error.code : null;
    const detail = (error && error.message) || 'no answer from Twilio';
    return failure(502, fix ? `${what} failed: ${detail}. ${fix}` : `${what} failed: ${detail}`, {
      message: contract.FAILED_MESSAGE,
      twilioCode: code,
      twilioStatus: (error && error.status) || null,
    });
  }

  /** The 200 answer of a handoff, with the SID of what was delivered under `sidName`, and a sentence the AI can say to the customer. */
  function handedOff(sidName, sid) {
    return { ok: true, statusCode: 200, body: { status: 'handed_off', [sidName]: sid, message: contract.HANDED_OFF_MESSAGE } };
  }

  return {
    // The contract these helpers were made of, for what a tool names from it (the Studio deploy command).
    contract,
    OutOfTime,
    RELEASE_RESERVE_MS: contract.RELEASE_RESERVE_MS,
    alreadyHandedOff,
    authenticate,
    backoffMs,
    botWebhooksOf,
    buildExecution,
    buildInteraction,
    checkSignature,
    claimMapOf,
    claimOf,
    closedAnswer,
    configValue,
    cut,
    deadlineOf,
    executionSearchOf,
    handedOffAttributes,
    handoffRecordOf,
    handedOff,
    headerOf,
    hoursAt,
    isClaimedAlready,
    isExecutionOf,
    isOpenAt,
    isStranded,
    mayHaveSucceeded,
    missingWebhooks,
    nextOpeningAfter,
    noAgentAnswer,
    outOfTime,
    parseContext,
    parseIdentity,
    parseObject,
    parseSession,
    readConfig,
    readToken,
    taskSearchOf,
    tryAgain,
    twilioFailure,
    unmarkedAttributes,
    webhookRequestOf,
    withRetries,
  };
}

module.exports = handoverHelpers;
