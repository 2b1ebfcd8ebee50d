// The voice path. A call to the voice AI's number (functions/voice/incoming-call) is connected to the AI over
// ConversationRelay, with the session's end sent where the path needs: the kit's own action (direct) or the Studio
// handoff flow's incomingCall trigger (studio, as Twilio Agent Connect points it).
//
// What a caller hears when the voice AI's ConversationRelay session ends. Twilio requests the
// <Connect action> URL (functions/voice/connect-action) with the session's ending: HandoffData (the JSON text the AI's
// `end` message carried), SessionStatus, SessionId, CallSid, CallStatus, From, To. A caller the AI handed off is
// enqueued to Flex (<Enqueue workflowSid><Task>) with the same `handoff` object the messaging path writes; any other
// ending gets the configured TwiML (a polite goodbye by default). A caller is never dropped by the kit: unreadable or
// oversized handoff data still enqueues, with a marked summary; a Sync fault still enqueues; only a missing or
// malformed workflow plays the configured fallback instead, each logged. A retried request for one session answers
// the same task (the first request's claim, the messaging path's Sync claim keyed by the call and its session).
// The steps it shares with the handoff (the claim) come in as `steps`, assets/tools/handoff.private.js; the pure
// helpers below are exported for Node's unit tests.
'use strict';

const NAME = 'connect-action';
const INCOMING_NAME = 'incoming-call';
// Where the session's end goes on each path (HANDOVER_VOICE_PATH).
const CONNECT_ACTION_PATH = '/voice/connect-action';
const CALL_SID = /^CA[0-9a-fA-F]{32}$/;
// How long the session's claim may take, retries included, within the deadline: the caller waits in silence meanwhile,
// and is enqueued all the same when Sync does not answer in time.
const CLAIM_BUDGET_MS = 2000;
// How much of unreadable handoff data the agent still sees after the marker.
const UNREADABLE_EXCERPT = 500;

/**
 * The voice path's configuration: `{ config, problems }`. A variable that is missing or malformed takes its default
 * (the workflow none) and its problem is kept for the log; nothing here refuses a caller.
 */
function readVoiceConfig(handover, context) {
  const problems = [];
  const values = {};
  // The contract's variables of this path, each read on its own: one that is wrong costs the caller nothing but itself.
  const names = Object.keys(handover.contract.CONFIG).filter((name) => handover.contract.CONFIG[name].tools.includes(NAME));
  for (const name of names) {
    // No request overrides a variable here: the parameters are Twilio's.
    const read = handover.configValue(context, {}, name);
    if (read.ok) {
      values[name] = read.value;
    } else {
      problems.push(read.body.error);
      values[name] = handover.contract.CONFIG[name].defaultValue;
    }
  }
  let staticAttributes = handover.parseObject(values.HANDOVER_ATTRIBUTES);
  if (staticAttributes === null) {
    problems.push(`HANDOVER_ATTRIBUTES is set but is not ${handover.contract.CONFIG.HANDOVER_ATTRIBUTES.expected}.`);
    staticAttributes = {};
  }
  return {
    problems,
    config: {
      workflowSid: values.FLEX_WORKFLOW_SID,
      staticAttributes,
      syncServiceSid: values.SYNC_SERVICE_SID,
      deadlineMs: Number(values.HANDOVER_DEADLINE_MS),
      attemptTimeoutMs: Number(values.HANDOVER_ATTEMPT_TIMEOUT_MS),
      endedTwiml: values.HANDOVER_VOICE_ENDED_TWIML,
      fallbackTwiml: values.HANDOVER_VOICE_FALLBACK_TWIML,
    },
  };
}

/** Text cut to `limit` characters, the contract's marker ending it when it was longer. */
function cutMarked(handover, text, limit) {
  const marker = handover.contract.CUT_MARKER;
  const cut = handover.cut(text, limit - Array.from(marker).length);
  return cut === text || Array.from(text).length <= limit ? text : cut + marker;
}

/**
 * The AI's account in the session's HandoffData: `{ reason, summary, problem }`, each cut to the contract's limit with
 * its marker. Twilio Agent Connect sends `{conversationId, storeId, profileId, attributes: {reason, …}}`; another AI
 * may send `{reason, summary}` itself: both are read. Data that is not a JSON object, or whose reason or summary is not
 * text, still hands the caller off: the summary then says so, then shows the data as it came (cut), and `problem`
 * says what was wrong, for the log.
 */
function readHandoffData(handover, text) {
  const { contract } = handover;
  const data = handover.parseObject(text);
  const given = data && data.attributes !== null && typeof data.attributes === 'object' ? data.attributes : data;
  const field = (name) => (given && (given[name] ?? data[name])) ?? '';
  const [reason, summary] = [field('reason'), field('summary')];
  if (data === null || typeof reason !== 'string' || typeof summary !== 'string') {
    const excerpt = cutMarked(handover, text, UNREADABLE_EXCERPT);
    return {
      reason: '',
      summary: cutMarked(handover, `${contract.UNREADABLE_HANDOFF_SUMMARY} ${excerpt}`, contract.MAX_SUMMARY_LENGTH),
      problem: data === null ? 'HandoffData is not a JSON object' : 'the reason or summary in HandoffData is not text',
    };
  }
  return {
    reason: cutMarked(handover, reason, contract.MAX_REASON_LENGTH),
    summary: cutMarked(handover, summary, contract.MAX_SUMMARY_LENGTH),
    problem: null,
  };
}

/**
 * How the session ended: `{ handoff: true }` when the AI handed the caller off (HandoffData given, the caller still
 * on the line), else `{ handoff: false, why }`. A caller who hung up hears nothing more, whatever the data said.
 */
function endingOf(event) {
  const data = typeof event.HandoffData === 'string' ? event.HandoffData.trim() : '';
  if (event.CallStatus && event.CallStatus !== 'in-progress') return { handoff: false, why: `the call is ${event.CallStatus}` };
  if (data === '') return { handoff: false, why: `the session ended (${event.SessionStatus || 'no SessionStatus'}) without HandoffData` };
  return { handoff: true };
}

/**
 * The task's attributes: the configured static ones first (the keys set here win over them), the contract's voice
 * attributes (TASK_ATTRIBUTES.voice) and the `handoff` object, as the messaging path writes it. Kept inside TaskRouter's
 * size limit by cutting the summary (with its marker), and without the static attributes when they leave no room for
 * it; `{ attributes, cut }`.
 */
function taskAttributesOf(handover, { config, event, handoff }) {
  const { contract } = handover;
  const caller = typeof event.From === 'string' && event.From !== '' ? event.From : 'Caller';
  const build = (summary) => ({
    ...config.staticAttributes,
    from: caller,
    customerName: caller,
    customerAddress: caller,
    callSid: event.CallSid,
    calledNumber: event.To || '',
    channelType: 'voice',
    [contract.HANDOFF_ATTRIBUTE]: { ...handoff, summary },
  });
  const attributes = build(handoff.summary);
  if (sizeOf(attributes) <= contract.MAX_TASK_ATTRIBUTES_BYTES) return { attributes, cut: false };
  const room = contract.MAX_TASK_ATTRIBUTES_BYTES - sizeOf(build(''));
  if (room >= jsonBytes(contract.CUT_MARKER)) return { attributes: build(fitted(handover, handoff.summary, room)), cut: true };
  // The static attributes leave no room: the caller goes without them rather than not at all.
  const unrouted = taskAttributesOf(handover, { config: { ...config, staticAttributes: {} }, event, handoff });
  return { attributes: unrouted.attributes, cut: true };
}

/** The bytes of attributes as TaskRouter keeps them: JSON text, UTF-8. */
function sizeOf(attributes) {
  return Buffer.byteLength(JSON.stringify(attributes), 'utf8');
}

/** The bytes a text takes inside a JSON string. */
function jsonBytes(text) {
  return Buffer.byteLength(JSON.stringify(text), 'utf8') - 2;
}

/** As much of the text as fits in `roomBytes` of JSON string with the contract's marker after it. */
function fitted(handover, text, roomBytes) {
  const marker = handover.contract.CUT_MARKER;
  let room = roomBytes - jsonBytes(marker);
  const kept = [];
  for (const character of Array.from(text)) {
    room -= jsonBytes(character);
    if (room < 0) break;
    kept.push(character);
  }
  return kept.join('') + marker;
}

/** The TwiML that enqueues the caller to the workflow with the task's attributes (the twilio library's VoiceResponse). */
function enqueueTwiml(VoiceResponse, { config, attributes }) {
  const response = new VoiceResponse();
  response.enqueue({ workflowSid: config.workflowSid }).task({}, JSON.stringify(attributes));
  return response.toString();
}

/** The Sync claim of one session of the call: the messaging path's claim, keyed by the call and its session. */
function claimOfSession(handover, { config, event, handoff }) {
  const key = event.SessionId ? `${event.CallSid}.${event.SessionId}` : event.CallSid;
  return handover.claimOf({ config, session: { conversationSid: key }, handoff });
}

function twiml(Twilio, body) {
  const response = new Twilio.Response();
  response.setStatusCode(200);
  response.appendHeader('Content-Type', 'text/xml');
  response.setBody(body);
  return response;
}

function refusal(Twilio, outcome) {
  const response = new Twilio.Response();
  response.setStatusCode(outcome.statusCode);
  response.appendHeader('Content-Type', 'application/json');
  response.setBody(outcome.body);
  return response;
}

/** Answer Twilio's request of the <Connect action> URL: TwiML, or a 401 JSON body to anyone but Twilio. */
async function respond({ Twilio, VoiceResponse, handover, steps, context, event, startedAt }) {
  // Twilio's signature first: anything else is answered 401 before any Twilio request.
  const caller = handover.checkSignature({ context, event, validateSignature: Twilio.validateRequest });
  if (!caller.ok) return refusal(Twilio, caller);
  try {
    return twiml(Twilio, await answerCall({ VoiceResponse, handover, steps, context, event, startedAt }));
  } catch (error) {
    // A fault of this code: the caller still goes to the queue if a task can be made, else hears the fallback.
    console.error(`${NAME}: unexpected failure on call ${event.CallSid}: ${(error && error.stack) || error}`);
    return twiml(Twilio, lastResort(VoiceResponse, handover, context, event, startedAt));
  }
}

async function answerCall({ VoiceResponse, handover, steps, context, event, startedAt }) {
  const { config, problems } = readVoiceConfig(handover, context);
  const ending = endingOf(event);
  if (!ending.handoff) {
    for (const problem of problems) console.error(`${NAME}: ${problem}`);
    return config.endedTwiml;
  }
  const callSid = typeof event.CallSid === 'string' && CALL_SID.test(event.CallSid) ? event.CallSid : null;
  for (const problem of problems) console.error(`${NAME}: call ${event.CallSid}: ${problem}`);
  if (!config.workflowSid || !callSid) {
    console.error(`${NAME}: call ${event.CallSid} not enqueued (${callSid ? 'no workflow' : 'no valid CallSid'}): the fallback plays.`);
    return config.fallbackTwiml;
  }
  const said = readHandoffData(handover, event.HandoffData);
  if (said.problem) console.error(`${NAME}: call ${callSid}: ${said.problem}; enqueued with a marked summary.`);
  const handoff = { reason: said.reason, summary: said.summary, source: context.PATH, requestedAt: new Date(startedAt).toISOString() };
  const requestedAt = await claimedRequestedAt({ handover, steps, context, config, event, handoff, startedAt });
  const task = taskAttributesOf(handover, { config, event, handoff: { ...handoff, requestedAt } });
  if (task.cut) console.error(`${NAME}: call ${callSid}: the task's attributes were over TaskRouter's limit; the summary was cut.`);
  return enqueueTwiml(VoiceResponse, { config, attributes: task.attributes });
}

/**
 * When this session's handoff was first asked for: this request's moment when it claims the session, the first
 * request's when Twilio retried (its claim holds it), this request's when the claim cannot be read or made (the
 * caller is enqueued all the same, the fault logged).
 */
async function claimedRequestedAt({ handover, steps, context, config, event, handoff, startedAt }) {
  const run = {
    handover,
    tool: { name: NAME, routeOf: () => `workflow ${config.workflowSid}` },
    config,
    client: context.getTwilioClient({ timeout: config.attemptTimeoutMs }),
    claim: claimOfSession(handover, { config, event, handoff }),
    deadline: handover.deadlineOf(startedAt, { ...config, deadlineMs: Math.min(config.deadlineMs, CLAIM_BUDGET_MS) }),
  };
  const claimed = await steps.takeClaim(run);
  if (claimed.ok) return handoff.requestedAt;
  if (!claimed.duplicate) {
    const error = claimed.error || {};
    // Out of time, the last failure is the cause: its status and code say what Sync answered.
    const cause = error.cause || error;
    console.error(
      `${NAME}: claiming call ${event.CallSid} in Sync failed (enqueued all the same): ${cause.status || '-'} ${cause.code || '-'} ${error.message}`
    );
    return handoff.requestedAt;
  }
  try {
    const held = await handover.withRetries(() => steps.claimItem(run).fetch(), run.deadline);
    return (held.data && held.data.requestedAt) || handoff.requestedAt;
  } catch (error) {
    console.error(`${NAME}: reading the claim of call ${event.CallSid} failed: ${error.status || '-'} ${error.code || '-'} ${error.message}`);
    return handoff.requestedAt;
  }
}

/** After a fault of this code: the caller enqueued without the AI's words when a workflow is set, else the fallback. */
function lastResort(VoiceResponse, handover, context, event, startedAt) {
  try {
    const { config } = readVoiceConfig(handover, context);
    if (!config.workflowSid) return config.fallbackTwiml;
    const handoff = { reason: '', summary: handover.contract.UNREADABLE_HANDOFF_SUMMARY, source: context.PATH, requestedAt: new Date(startedAt).toISOString() };
    const { attributes } = taskAttributesOf(handover, { config, event, handoff });
    return enqueueTwiml(VoiceResponse, { config, attributes });
  } catch {
    return handover.contract.CONFIG.HANDOVER_VOICE_FALLBACK_TWIML.defaultValue;
  }
}

/**
 * Where the path sends the session's end: the deployment's /voice/connect-action (direct), or the Studio flow's
 * webhook with Trigger=incomingCall (studio), as Twilio Agent Connect builds it.
 */
function actionUrlOf(context, path, flowSid) {
  return path === 'studio'
    ? `https://webhooks.twilio.com/v1/Accounts/${context.ACCOUNT_SID}/Flows/${flowSid}?Trigger=incomingCall`
    : `https://${context.DOMAIN_NAME}${CONNECT_ACTION_PATH}`;
}

/** The incoming call's TwiML: <Connect action=…><ConversationRelay url=…/></Connect>. */
function incomingTwiml(VoiceResponse, { relayUrl, actionUrl }) {
  const response = new VoiceResponse();
  response.connect({ action: actionUrl }).conversationRelay({ url: relayUrl });
  return response.toString();
}

/**
 * Answer Twilio's request of the number's voice URL: the caller connected to the voice AI; the configured fallback,
 * with the problem logged, when the relay URL (or the Studio flow of the studio path) is missing or malformed; a 401
 * JSON body to anyone but Twilio.
 */
function respondToCall({ Twilio, VoiceResponse, handover, context, event }) {
  const caller = handover.checkSignature({ context, event, validateSignature: Twilio.validateRequest });
  if (!caller.ok) return refusal(Twilio, caller);
  const read = (name) => handover.configValue(context, {}, name);
  const fallback = read('HANDOVER_VOICE_FALLBACK_TWIML');
  const fallbackTwiml = fallback.ok ? fallback.value : handover.contract.CONFIG.HANDOVER_VOICE_FALLBACK_TWIML.defaultValue;
  const relayUrl = read('HANDOVER_VOICE_RELAY_URL');
  const path = read('HANDOVER_VOICE_PATH');
  const flow = path.ok && path.value === 'studio' ? read('TWILIO_STUDIO_HANDOFF_FLOW_SID') : { ok: true };
  const problems = [fallback, relayUrl, path, flow].filter((result) => !result.ok).map((result) => result.body.error);
  if (problems.length) {
    for (const problem of problems) console.error(`${INCOMING_NAME}: call ${event.CallSid}: ${problem}`);
    return twiml(Twilio, fallbackTwiml);
  }
  const actionUrl = actionUrlOf(context, path.value, flow.value);
  return twiml(Twilio, incomingTwiml(VoiceResponse, { relayUrl: relayUrl.value, actionUrl }));
}

module.exports = { respond, respondToCall, actionUrlOf, incomingTwiml, claimOfSession, cutMarked, endingOf, enqueueTwiml, readHandoffData, readVoiceConfig, taskAttributesOf };
