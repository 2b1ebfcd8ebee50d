// The hand-back: after the human agent, the customer's conversation goes back to the AI. Two entry points run it:
// TaskRouter's events (functions/lifecycle/task-events: at the end of a task the kit created, the agent's wrap-up or
// completion, or its cancelation when no agent took it in time) and the agent's own Return to AI
// (functions/lifecycle/hand-back, with the agent's Flex token: `respondToAgent`). Either way the bot's webhooks that
// the handoff removed are made again, the handoff's claim is given back (so that the AI may hand off again), the
// hand-back is recorded on the conversation for the AI to read, and the customer is told what was configured. Once
// per task, whatever TaskRouter repeats or reorders and whichever entry point comes first: a Sync claim keyed by the
// task. The steps it shares with the handoff (the claim, the conversation, the bot's webhooks) come in as `steps`,
// assets/tools/handoff.private.js; the pure helpers below are exported for Node's unit tests. The end of a task of
// Twilio Agent Connect's Studio flow gives the conversation back to TAC instead (the last section).
'use strict';

const crypto = require('crypto');

// The event path's name, in its log lines; the configuration both entry points read is the one of this name (the
// contract's variables of task-events: the messages, the claim's Sync service, the timings).
const NAME = 'task-events';
// The agent's path's name, in its log lines.
const AGENT_NAME = 'hand-back';
// What the event path's 503 answers say comes next.
const EVENT_AGAIN = 'TaskRouter may send the event again';
// What the handoff recorded on the conversation, taken away by the hand-back.
const HANDOFF_KEYS = ['handedOff', 'handedOffAt', 'handoffClaimId', 'handoffBotWebhooks'];
const TASK_SID = /^WT[0-9a-fA-F]{32}$/;
const WORKSPACE_SID = /^WS[0-9a-fA-F]{32}$/;
// The statuses of the reservation of the agent who has or had the task: accepted, wrapping up, completed.
const HANDLED = ['accepted', 'wrapping', 'completed'];
// The Flex roles that may hand back any agent's task.
const OVERSEERS = ['supervisor', 'admin'];
// The agent's path is called from Flex's page (a plugin): its answers may be read there. The runtime answers the
// preflight itself; the Flex token in the body is the credential, no cookie, so any origin may read them.
const AGENT_HEADERS = { 'Access-Control-Allow-Origin': '*' };

function answer(statusCode, body) {
  return { statusCode, body };
}

function refused(statusCode, error) {
  return answer(statusCode, { status: statusCode >= 500 ? 'failed' : 'rejected', error });
}

/**
 * The conversation a task the kit created is for, from the task's attributes (text): `{ ok, session, requestedAt }`;
 * `{ ignored }` for a task no handover tool created; `{ unparsed }` for attributes that are not JSON. The direct path
 * (and the voice path) puts the handoff under HANDOFF_ATTRIBUTE beside the conversation; the studio-handover tool
 * puts it, with the conversation, among the attributes of the HandoffData its Studio flow sets on the task.
 */
function handoffOf(taskAttributes, contract) {
  let attributes;
  try {
    attributes = JSON.parse(taskAttributes);
  } catch {
    return { unparsed: true };
  }
  const ignored = { ignored: 'the task was not created by a handover tool' };
  if (!attributes || typeof attributes !== 'object') return ignored;
  const direct = attributes[contract.HANDOFF_ATTRIBUTE];
  const data = attributes[contract.STUDIO_HANDOFF_ATTRIBUTE];
  const viaStudio = !direct && data && typeof data === 'object' && data.attributes && typeof data.attributes === 'object' ? data.attributes : null;
  const handoff = direct || viaStudio;
  const { conversationSid, conversationServiceSid } = direct ? attributes : viaStudio || {};
  if (!handoff || typeof handoff !== 'object' || typeof conversationSid !== 'string' || typeof conversationServiceSid !== 'string') {
    return ignored;
  }
  return { ok: true, session: { serviceSid: conversationServiceSid, conversationSid }, requestedAt: handoff.requestedAt };
}

/**
 * The end of a task the kit created, from TaskRouter's event (one of the contract's HANDBACK_EVENTS; its kind
 * the event's name without `task.`): `{ ok, kind, taskSid, session, requestedAt,
 * worker, outcome }`; `{ ignored }` (answered 200, nothing done) for any other event or task; a 400 for an
 * ending whose task attributes do not parse.
 */
function taskEndingOf(event, contract) {
  if (!contract.HANDBACK_EVENTS.includes(event.EventType)) {
    return { ignored: `${event.EventType || 'an event without EventType'} does not end a task` };
  }
  const handoff = handoffOf(event.TaskAttributes, contract);
  if (handoff.unparsed) return { ...answer(400, { status: 'failed', error: 'TaskAttributes is not JSON.' }), ok: false };
  if (handoff.ignored) return { ignored: handoff.ignored };
  return {
    ok: true,
    kind: event.EventType.slice('task.'.length),
    taskSid: event.TaskSid,
    session: handoff.session,
    requestedAt: handoff.requestedAt,
    worker: event.WorkerSid ? { sid: event.WorkerSid, name: event.WorkerName || null } : null,
    outcome: event.TaskCompletedReason || event.TaskCanceledReason || null,
  };
}

/**
 * The agent's request: `{ ok, token, taskSid }`; a 401 without a Flex token (`Token`, in the body as Flex plugins
 * send it), then a 400 for a missing or malformed `TaskSid`, before any request.
 */
function agentRequestOf(event) {
  const token = event && event.Token;
  if (typeof token !== 'string' || token === '') {
    return refused(401, "This function needs the agent's Flex token: send it as Token in the body.");
  }
  const taskSid = event.TaskSid;
  if (typeof taskSid !== 'string' || !TASK_SID.test(taskSid)) {
    return refused(400, 'TaskSid must be the SID of the Flex task: WT followed by 32 hex characters.');
  }
  return { ok: true, token, taskSid };
}

/** The reservation of the agent who has or had the task (accepted, wrapping up or completed); undefined when none. */
function handlerOf(reservations) {
  return reservations.find((reservation) => HANDLED.includes(reservation.reservationStatus));
}

/**
 * Whether the validated Flex token (`tokenResult`, as Twilio's IAM answers it: `worker_sid`, `roles`) may hand the
 * task back: its worker is the one of the task's accepted reservation (`reservations`, the task's, as the twilio
 * library lists them), or it has a supervisor's or an admin's role. `{ ok, worker }`, the worker who asked, as the
 * hand-back records it (named when it is the task's agent); else a 403.
 */
function mayHandBack(tokenResult, reservations) {
  const workerSid = typeof tokenResult.worker_sid === 'string' && tokenResult.worker_sid !== '' ? tokenResult.worker_sid : null;
  const roles = Array.isArray(tokenResult.roles) ? tokenResult.roles : [];
  const handler = handlerOf(reservations);
  const isHandler = Boolean(handler) && workerSid !== null && handler.workerSid === workerSid;
  if (!isHandler && !roles.some((role) => OVERSEERS.includes(role))) {
    return refused(403, 'Only the agent who accepted this task, or a supervisor or an admin, can hand it back to the AI.');
  }
  const worker = workerSid ? { sid: workerSid, name: isHandler ? handler.workerName || null : null } : null;
  return { ok: true, worker };
}

/** The agent's hand-back of a task (as the twilio library fetches it), like the end of a task: `reason` agent. */
function agentEndingOf(task, worker, contract) {
  const handoff = handoffOf(task.attributes, contract);
  if (!handoff.ok) return { ignored: 'the task was not created by a handover tool' };
  return { ok: true, kind: 'agent', taskSid: task.sid, session: handoff.session, requestedAt: handoff.requestedAt, worker, outcome: null };
}

/** The hand-back's claim: a Sync Map item keyed by the task, in the Map of the conversation's claims, for a day. */
function handBackClaimOf(handover, config, ending) {
  const conversationClaim = handover.claimOf({ config, session: ending.session, handoff: { requestedAt: ending.requestedAt } });
  return {
    ...conversationClaim,
    item: { ...conversationClaim.item, key: ending.taskSid, data: { claimId: crypto.randomUUID(), taskSid: ending.taskSid } },
  };
}

/**
 * What the conversation says of this task's handoff: 'current' when its record is the handoff of this task
 * (the same requestedAt), 'other' when it records another handoff or none (a later handoff, or a hand-back
 * already made): then the bot is left as it is.
 */
function handoffStateOf(attributes, ending) {
  return attributes.handedOff === true && attributes.handedOffAt === ending.requestedAt ? 'current' : 'other';
}

/** The attributes after the hand-back: the handoff's record taken away, the hand-back recorded, the rest kept. */
function handedBackAttributes(attributes, ending, at, botRestored) {
  const kept = { ...attributes };
  for (const key of HANDOFF_KEYS) delete kept[key];
  return {
    ...kept,
    handedBack: {
      at,
      taskSid: ending.taskSid,
      reason: ending.kind,
      worker: ending.worker,
      outcome: ending.outcome,
      botRestored,
    },
  };
}

function parseAttributes(text) {
  try {
    const parsed = JSON.parse(text || '{}');
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/** Answer one TaskRouter event, as a Twilio.Response with a JSON body. */
async function respond({ Twilio, handover, steps, context, event, startedAt }) {
  const outcome = await guarded(NAME, event, () => handBack({ Twilio, handover, steps, context, event, startedAt }));
  return asResponse(Twilio, outcome, {});
}

/**
 * Answer the agent's Return to AI, as a Twilio.Response with a JSON body. `validateToken` is twilio-flex-token-
 * validator's `validator(token, accountSid, authToken, realm)`, which resolves to what Twilio's IAM answers of a
 * valid token and rejects otherwise.
 */
async function respondToAgent({ Twilio, handover, steps, validateToken, context, event, startedAt }) {
  const outcome = await guarded(AGENT_NAME, event, () =>
    handBackForAgent({ handover, steps, validateToken, context, event, startedAt })
  );
  return asResponse(Twilio, outcome, AGENT_HEADERS);
}

/** `hand()`'s answer, or a 500 said once in the log for a fault of this code, never a 200. */
async function guarded(name, event, hand) {
  try {
    return await hand();
  } catch (error) {
    console.error(`${name}: unexpected failure on task ${event && event.TaskSid}: ${(error && error.stack) || error}`);
    return answer(500, { status: 'failed', error: 'The hand-back failed unexpectedly; its log says why.' });
  }
}

function asResponse(Twilio, outcome, headers) {
  const response = new Twilio.Response();
  response.setStatusCode(outcome.statusCode);
  response.appendHeader('Content-Type', 'application/json');
  for (const [name, value] of Object.entries(headers)) response.appendHeader(name, value);
  response.setBody(outcome.body);
  return response;
}

/**
 * What a hand-back runs with (`run`): its client, its deadline and its claim, the one of the task; `again`, what its
 * 503 answers say comes next (TaskRouter's next event, or the agent's next click).
 */
function runOf({ handover, name, config, client, deadline, ending, again }) {
  return {
    handover,
    tool: { name, routeOf: () => `task ${ending.taskSid}` },
    again,
    config,
    session: ending.session,
    client,
    deadline,
    claim: handBackClaimOf(handover, config, ending),
    ending,
  };
}

async function handBack({ Twilio, handover, steps, context, event, startedAt }) {
  // Twilio's signature first: anything else is answered 401 before any Twilio request.
  const caller = handover.checkSignature({ context, event, validateSignature: Twilio.validateRequest });
  if (!caller.ok) return caller;
  const config = handover.readConfig(context, event, NAME);
  if (!config.ok) return config;
  const ofTac = tacEndingOf(event, handover.contract);
  if (ofTac) {
    const workspaceSid = WORKSPACE_SID.test(event.WorkspaceSid || '') ? event.WorkspaceSid : null;
    return handBackToTac({ handover, steps, context, config, startedAt, ending: ofTac, workspaceSid, name: NAME, again: EVENT_AGAIN });
  }
  const ending = taskEndingOf(event, handover.contract);
  if (ending.ignored) return answer(200, { status: 'ignored', reason: ending.ignored });
  if (!ending.ok) return ending;

  const client = context.getTwilioClient({ timeout: config.attemptTimeoutMs });
  const deadline = handover.deadlineOf(startedAt, config);
  const run = runOf({ handover, name: NAME, config, client, deadline, ending, again: EVENT_AGAIN });
  // First round: this task's claim, and beside it the conversation and the agent who had the task (a task
  // event names no worker).
  const [claimed, conversation, worker] = await Promise.all([
    steps.takeClaim(run),
    steps.readConversation(run),
    ending.worker || ending.kind === 'canceled' || !WORKSPACE_SID.test(event.WorkspaceSid || '')
      ? ending.worker
      : agentOf(run, event.WorkspaceSid),
  ]);
  return handBackOnce(steps, { ...run, ending: { ...ending, worker } }, claimed, conversation);
}

/**
 * The agent's Return to AI: who asks is checked first (the Flex token, then the task's agent), then the hand-back as
 * at the end of the task, under the same claim, so that whichever of the agent and TaskRouter's events comes first
 * hands back, once. Three rounds before the hand-back's own: the token's validation, the task with its reservations,
 * then the claim beside the conversation.
 */
async function handBackForAgent({ handover, steps, validateToken, context, event, startedAt }) {
  const request = agentRequestOf(event);
  if (!request.ok) return request;
  const config = handover.readConfig(context, event, NAME);
  if (!config.ok) return config;
  const setup = agentSetupOf(context, handover.contract);
  if (!setup.ok) return setup;
  const deadline = handover.deadlineOf(startedAt, config);

  const validation = await validated(validateToken, request.token, context, config.attemptTimeoutMs);
  if (validation.timedOut) return answer(503, { status: 'retryable', error: 'Could not validate the Flex token in time; try again.' });
  if (!validation.ok) {
    // The validator says why only in words (IAM's message, or the network's): logged, never echoed.
    console.warn(`${AGENT_NAME}: the Flex token for task ${request.taskSid} was refused: ${validation.reason}`);
    return refused(401, 'The Flex token is not valid: sign in to Flex again, then try again.');
  }

  const client = context.getTwilioClient({ timeout: config.attemptTimeoutMs });
  const read = await taskOf({ handover, client, deadline }, setup.workspaceSid, request.taskSid);
  if (!read.ok) return read;
  const allowed = mayHandBack(validation.result, read.reservations);
  if (!allowed.ok) return allowed;
  const ofTac = tacAgentEndingOf(read.task, allowed.worker, handover.contract);
  if (ofTac) {
    const workspaceSid = setup.workspaceSid;
    return handBackToTac({ handover, steps, context, config, startedAt, ending: ofTac, workspaceSid, name: AGENT_NAME, again: 'try again' });
  }
  const ending = agentEndingOf(read.task, allowed.worker, handover.contract);
  if (ending.ignored) return answer(200, { status: 'ignored', reason: ending.ignored });

  const run = runOf({ handover, name: AGENT_NAME, config, client, deadline, ending, again: 'try again' });
  const [claimed, conversation] = await Promise.all([steps.takeClaim(run), steps.readConversation(run)]);
  return handBackOnce(steps, run, claimed, conversation);
}

/**
 * What the agent's path needs of the environment beyond the hand-back's configuration: the Flex workspace
 * (FLEX_WORKSPACE_SID, never overridden by a request) and the account's credentials, which validate the token.
 */
function agentSetupOf(context, contract) {
  const spec = contract.CONFIG.FLEX_WORKSPACE_SID;
  const workspaceSid = context.FLEX_WORKSPACE_SID;
  if (typeof workspaceSid !== 'string' || !spec.pattern.test(workspaceSid)) {
    const problem = workspaceSid === undefined || workspaceSid === '' ? 'is not set on this Functions environment' : `is set but is not ${spec.expected}`;
    return refused(500, `FLEX_WORKSPACE_SID ${problem}. Set it with \`${spec.setBy}\` (or in .env for a local run), then call again.`);
  }
  if (!context.ACCOUNT_SID || !context.AUTH_TOKEN) {
    return refused(500, "ACCOUNT_SID and AUTH_TOKEN are not on this Functions environment: enable the service's credentials (include them in the deploy).");
  }
  return { ok: true, workspaceSid };
}

/**
 * The token validated by `validateToken` within `timeoutMs`: `{ ok, result }`, `{ ok: false, reason }` when it refused
 * (an invalid or expired token; IAM unreachable says no more), `{ timedOut }` when it did not answer in time (its
 * request cannot be aborted: it ends on its own). The realm is the region's, as the validator's functionValidator
 * reads it.
 */
async function validated(validateToken, token, context, timeoutMs) {
  const realm = context.TWILIO_REGION ? String(context.TWILIO_REGION).split('-')[0] : '';
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, timedOut: true }), timeoutMs);
  });
  const validation = Promise.resolve()
    .then(() => validateToken(token, context.ACCOUNT_SID, context.AUTH_TOKEN, realm))
    .then(
      (result) => (result && typeof result === 'object' ? { ok: true, result } : { ok: false, reason: 'no token result' }),
      (reason) => ({ ok: false, reason: String((reason && reason.message) || reason) })
    );
  try {
    return await Promise.race([validation, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The task and its reservations, in one round (both ended before it answers): `{ ok, task, reservations }`; a 404
 * when the workspace has no such task, a 503 when it cannot be read in time.
 */
async function taskOf(run, workspaceSid, taskSid) {
  const task = () => run.client.taskrouter.v1.workspaces(workspaceSid).tasks(taskSid);
  const [fetched, listed] = await Promise.allSettled([
    run.handover.withRetries(() => task().fetch(), run.deadline),
    reservationsOf(run, workspaceSid, taskSid),
  ]);
  if (fetched.status === 'fulfilled' && listed.status === 'fulfilled') {
    return { ok: true, task: fetched.value, reservations: listed.value };
  }
  const errors = [fetched, listed].filter((read) => read.status === 'rejected').map((read) => read.reason || {});
  if (errors.some((error) => error.status === 404)) return refused(404, `The Flex workspace has no task ${taskSid}.`);
  const [error] = errors;
  console.error(`${AGENT_NAME}: reading task ${taskSid} failed: ${error.status || '-'} ${error.code || '-'} ${error.message}`);
  return answer(503, { status: 'retryable', error: 'Could not read the task; try again.' });
}

/** The task's reservations (a task has few: one per offer), retried within the deadline. */
function reservationsOf(run, workspaceSid, taskSid) {
  return run.handover.withRetries(
    () => run.client.taskrouter.v1.workspaces(workspaceSid).tasks(taskSid).reservations.list({ limit: 20 }),
    run.deadline
  );
}

/** The hand-back under the task's claim, once the first round is in (the event's, or the agent's). */
async function handBackOnce(steps, run, claimed, conversation) {
  const { handover, config, ending } = run;
  if (claimed.duplicate) return answer(200, { status: 'already_handed_back', taskSid: ending.taskSid });
  if (!claimed.ok) {
    steps.logFailure(run, 'Claiming the hand-back in Sync', claimed.error);
    if (claimed.mayExist) await steps.releaseClaim(run);
    return retryable(run, 'Could not claim the hand-back');
  }
  if (!conversation) {
    await steps.releaseClaim(run);
    return retryable(run, 'Could not read the conversation');
  }
  const attributes = parseAttributes(conversation.attributes);
  const at = new Date().toISOString();
  if (conversation.state === 'closed') {
    // The agent ended the chat: the hand-back is recorded, nothing else is changed.
    const recorded = await record(steps, run, { ...attributes, handedBack: handedBackAttributes({}, ending, at, false).handedBack });
    return answer(200, { status: 'recorded', taskSid: ending.taskSid, conversationSid: ending.session.conversationSid, recorded });
  }
  if (handoffStateOf(attributes, ending) === 'other') {
    // A late event of an earlier handoff: the conversation is another's, or the AI's again. Left as it is.
    return answer(200, { status: 'ignored', reason: "the conversation does not record this task's handoff" });
  }

  // Second round: the bot back, and the handoff's claim given back.
  const saved = Array.isArray(attributes.handoffBotWebhooks) ? attributes.handoffBotWebhooks : [];
  const [restored] = await Promise.all([
    steps.restoreBotWebhooks(run, saved),
    steps.releaseClaim({ ...run, claim: handover.claimOf({ config, session: ending.session, handoff: {} }) }),
  ]);
  if (!restored) {
    // Never none and never two: the next event of this task (or TaskRouter's retry) tries again, and the
    // customer has been told nothing yet, so is told once.
    await steps.releaseClaim(run);
    return retryable(run, "Could not make the bot's webhooks again");
  }
  // Last round: the customer told, and the hand-back recorded for the AI.
  const message = ending.kind === 'canceled' ? config.noAgentMessage : config.handBackMessage;
  const [recorded] = await Promise.all([
    record(steps, run, handedBackAttributes(attributes, ending, at, true)),
    message ? tell(steps, run, message) : null,
  ]);
  return answer(200, {
    status: 'handed_back',
    taskSid: ending.taskSid,
    conversationSid: ending.session.conversationSid,
    restoredWebhooks: saved.length,
    told: Boolean(message),
    recorded,
  });
}

/** The agent whose reservation of the task was accepted, `{ sid, name }`; null when none is, or the list fails. */
async function agentOf(run, workspaceSid) {
  const taskSid = run.ending.taskSid;
  try {
    const reservation = handlerOf(await reservationsOf(run, workspaceSid, taskSid));
    return reservation ? { sid: reservation.workerSid, name: reservation.workerName } : null;
  } catch (error) {
    console.warn(`${NAME}: no agent found for task ${taskSid}: ${error.status || '-'} ${error.code || '-'}`);
    return null;
  }
}

/** The 503 of a hand-back that did not happen and may on the next try: its claim was given back, or never taken. */
function retryable(run, what) {
  return answer(503, { status: 'retryable', error: `${what}; ${run.again}.` });
}

/** Write the conversation's attributes; whether that worked (the hand-back stands either way). */
async function record(steps, run, attributes) {
  try {
    await run.handover.withRetries(() => steps.conversationOf(run).update({ attributes: JSON.stringify(attributes) }), run.deadline);
    return true;
  } catch (error) {
    steps.logFailure(run, 'Recording the hand-back on the conversation', error);
    return false;
  }
}

/** Tell the customer, as the system (a REST message without X-Twilio-Webhook-Enabled reaches no bot). */
async function tell(steps, run, body) {
  try {
    await run.handover.withRetries(() => steps.conversationOf(run).messages.create({ author: 'system', body }), run.deadline);
  } catch (error) {
    steps.logFailure(run, 'Telling the customer', error);
  }
}

// The hand-back to Twilio Agent Connect (TAC) ------------------------------------------------------------------------
//
// TAC escalates without this kit (tac/tools/handoff.py of twilio-agent-connect 2.5.0): it sets its Conversation
// Orchestrator conversation INACTIVE (`PUT /v2/Conversations/{id}` `{"status": "INACTIVE"}`) and clears that
// conversation's status callbacks (`PATCH` `{"configuration": {"statusCallbacks": []}}`), so that no webhook reaches
// TAC any more, then starts the handoff flow with HandoffData, whose Send to Flex makes the task
// (py/handover/studio/templates/agent-handoff.json.j2, messaging_to_flex). Its next turn needs both back: its
// messaging channel acts on the COMMUNICATION_CREATED webhooks of the conversation's status callbacks. TAC never
// gives a conversation callbacks of its own, so the callbacks it cleared are its configuration's: the hand-back
// sets the conversation ACTIVE with its configuration's status callbacks, in one PATCH. Once per task, under the
// same claim as the kit's own tasks; recorded on the Conversations (Classic) conversation, and the customer told
// there, as on the direct path; a closed conversation (Classic closed, or Orchestrator CLOSED: final) is recorded
// only.

// TAC's conversation: a Conversation Orchestrator TTID.
const ORCHESTRATOR_CONVERSATION = /^conv_conversation_[0-7][0-9a-hjkmnp-tv-z]{25}$/;
const CONVERSATION_SID = /^CH[0-9a-fA-F]{32}$/;
const TAC_NAME = 'Twilio Agent Connect';

/**
 * The conversations of a task TAC's flow made, from the task's attributes (text): they carry TAC's HandoffData
 * (`handoffData.conversationId`, the Orchestrator conversation) and the Conversations (Classic) conversation
 * (`conversationSid`), and not the kit's own handoff record. `{ conversationSid, orchestratorConversationId }`; null
 * for any other task (the direct path's handoffOf answers it).
 */
function tacHandoffOf(taskAttributes, contract) {
  let attributes;
  try {
    attributes = JSON.parse(taskAttributes);
  } catch {
    return null;
  }
  if (!attributes || typeof attributes !== 'object' || attributes[contract.HANDOFF_ATTRIBUTE]) return null;
  const handoffData = attributes[contract.STUDIO_HANDOFF_ATTRIBUTE];
  const conversationId = handoffData && typeof handoffData === 'object' ? handoffData.conversationId : undefined;
  const { conversationSid } = attributes;
  if (typeof conversationId !== 'string' || !ORCHESTRATOR_CONVERSATION.test(conversationId)) return null;
  if (typeof conversationSid !== 'string' || !CONVERSATION_SID.test(conversationSid)) return null;
  return { conversationSid, orchestratorConversationId: conversationId };
}

/** The hand-back of a TAC task: its kind (an event's, or the agent's), the task, who had it and why it ended. */
function tacEnding(tac, kind, taskSid, worker, outcome) {
  return {
    ok: true,
    kind,
    taskSid,
    // The Classic service is the Orchestrator bridge's, read in the first round.
    session: { serviceSid: null, conversationSid: tac.conversationSid },
    orchestratorConversationId: tac.orchestratorConversationId,
    requestedAt: null,
    worker,
    outcome,
  };
}

/** The end of a task TAC's flow made, from TaskRouter's event; null for anything else (taskEndingOf answers it). */
function tacEndingOf(event, contract) {
  if (!contract.HANDBACK_EVENTS.includes(event.EventType)) return null;
  const tac = tacHandoffOf(event.TaskAttributes, contract);
  if (!tac) return null;
  const worker = event.WorkerSid ? { sid: event.WorkerSid, name: event.WorkerName || null } : null;
  return tacEnding(tac, event.EventType.slice('task.'.length), event.TaskSid, worker, event.TaskCompletedReason || event.TaskCanceledReason || null);
}

/** The agent's hand-back of a task TAC's flow made (the task as the twilio library fetches it); null for another. */
function tacAgentEndingOf(task, worker, contract) {
  const tac = tacHandoffOf(task.attributes, contract);
  return tac ? tacEnding(tac, 'agent', task.sid, worker, null) : null;
}

/** The Orchestrator conversation's client (twilio's conversations.v2). */
function orchestratedOf(run) {
  return run.client.conversations.v2.conversations(run.ending.orchestratorConversationId);
}

/** `read()` retried within the deadline: `{ ok, value }`, else `{ ok: false, error }`. */
async function readWithRetries(run, read) {
  try {
    return { ok: true, value: await run.handover.withRetries(read, run.deadline) };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * A task of the same Classic conversation still with Flex (pending, reserved or assigned) other than this one: TAC
 * handed the conversation off again. Its SID; null when there is none, or when the search fails (logged: the
 * hand-back is not held up by it).
 */
async function laterTaskOf(run, workspaceSid) {
  const search = () =>
    run.client.taskrouter.v1.workspaces(workspaceSid).tasks.list({
      evaluateTaskAttributes: `conversationSid == ${JSON.stringify(run.session.conversationSid)}`,
      assignmentStatus: ['pending', 'reserved', 'assigned'],
      limit: 20,
    });
  try {
    const later = (await run.handover.withRetries(search, run.deadline)).find((task) => task.sid !== run.ending.taskSid);
    return later ? later.sid : null;
  } catch (error) {
    console.warn(`${NAME}: no search for a later task of task ${run.ending.taskSid}'s conversation: ${error.status || '-'} ${error.code || '-'}`);
    return null;
  }
}

/** Give the conversation back to TAC: ACTIVE, with its configuration's status callbacks; whether that was done. */
async function turnTacBackOn(steps, run, statusCallbacks) {
  try {
    await run.handover.withRetries(
      () => orchestratedOf(run).patch({ status: 'ACTIVE', configuration: { statusCallbacks } }),
      run.deadline
    );
    return true;
  } catch (error) {
    steps.logFailure(run, `Giving Orchestrator conversation ${run.ending.orchestratorConversationId} back to TAC`, error);
    return false;
  }
}

/**
 * Give a task TAC's flow made back to TAC, at the task's end (TaskRouter's event) or at the agent's Return to AI
 * (`name` and `again` the caller's; `workspaceSid` the task's workspace, null when the event names none), under the
 * task's claim either way.
 */
async function handBackToTac({ handover, steps, context, config, startedAt, ending, workspaceSid, name, again }) {
  const client = context.getTwilioClient({ timeout: config.attemptTimeoutMs });
  const deadline = handover.deadlineOf(startedAt, config);
  const run = runOf({ handover, name, config, client, deadline, ending, again });
  // First round: this task's claim, and beside it TAC's conversation, the agent who had the task, and any later task
  // of the conversation.
  const [claimed, orchestrated, worker, laterTask] = await Promise.all([
    steps.takeClaim(run),
    readWithRetries(run, () => orchestratedOf(run).fetch()),
    ending.worker || ending.kind === 'canceled' || !workspaceSid ? ending.worker : agentOf(run, workspaceSid),
    workspaceSid ? laterTaskOf(run, workspaceSid) : null,
  ]);
  if (claimed.duplicate) return answer(200, { status: 'already_handed_back', taskSid: ending.taskSid });
  if (!claimed.ok) {
    steps.logFailure(run, 'Claiming the hand-back in Sync', claimed.error);
    if (claimed.mayExist) await steps.releaseClaim(run);
    return retryable(run, 'Could not claim the hand-back');
  }
  if (laterTask) {
    // A late event of an earlier handoff: TAC handed the conversation off again, and Flex has it. Left as it is.
    return answer(200, { status: 'ignored', reason: `a later handoff of the conversation is with Flex (task ${laterTask})` });
  }
  if (!orchestrated.ok) {
    steps.logFailure(run, `Reading Orchestrator conversation ${ending.orchestratorConversationId}`, orchestrated.error);
    await steps.releaseClaim(run);
    return retryable(run, "Could not read TAC's Orchestrator conversation");
  }
  const conversation = orchestrated.value;
  const bridge = conversation.configuration && conversation.configuration.conversationsV1Bridge;
  const serviceSid = bridge && typeof bridge.serviceId === 'string' ? bridge.serviceId : null;
  const tacRun = { ...run, session: { ...run.session, serviceSid }, ending: { ...ending, worker } };

  // Second round: the Conversations (Classic) conversation of the bridge, and the configuration's status callbacks.
  const [classic, configuration] = await Promise.all([
    serviceSid ? steps.readConversation(tacRun) : null,
    readWithRetries(tacRun, () => client.conversations.v2.configurations(conversation.configurationId).fetch()),
  ]);
  if (!configuration.ok) {
    steps.logFailure(tacRun, `Reading configuration ${conversation.configurationId}`, configuration.error);
    await steps.releaseClaim(tacRun);
    return retryable(tacRun, "Could not read TAC's Orchestrator configuration");
  }
  if (serviceSid && !classic) {
    await steps.releaseClaim(tacRun);
    return retryable(tacRun, 'Could not read the conversation');
  }
  const at = new Date().toISOString();
  const attributes = classic ? parseAttributes(classic.attributes) : {};
  const classicClosed = Boolean(classic) && classic.state === 'closed';
  if (conversation.status === 'CLOSED' || classicClosed) {
    // The conversation is over: nothing is changed, and the hand-back recorded where it can be (a closed
    // Classic conversation takes no change: Twilio's 50377).
    const recordable = Boolean(classic) && !classicClosed;
    const recorded = recordable && (await record(steps, tacRun, { ...attributes, handedBack: tacRecordOf(tacRun, at, false) }));
    return answer(200, { ...tacAnswerOf(tacRun, 'recorded'), recorded });
  }

  // Third round: TAC back on.
  const statusCallbacks = (configuration.value.statusCallbacks || []).map(({ url, method }) => ({ url, method }));
  if (!(await turnTacBackOn(steps, tacRun, statusCallbacks))) {
    // Nothing told yet: the next event of this task tries again, and the customer is told once.
    await steps.releaseClaim(tacRun);
    return retryable(tacRun, 'Could not give the conversation back to Twilio Agent Connect');
  }
  // Last round: the customer told, and the hand-back recorded, on the Classic conversation.
  const message = ending.kind === 'canceled' ? config.noAgentMessage : config.handBackMessage;
  const [recorded] = await Promise.all([
    classic ? record(steps, tacRun, { ...attributes, handedBack: tacRecordOf(tacRun, at, true) }) : false,
    classic && message ? tell(steps, tacRun, message) : null,
  ]);
  if (!classic) {
    console.error(
      `${NAME}: TAC's configuration ${conversation.configurationId} has no conversationsV1Bridge: task ` +
        `${ending.taskSid} was handed back to TAC, its customer told nothing and nothing recorded`
    );
  }
  return answer(200, {
    ...tacAnswerOf(tacRun, 'handed_back'),
    statusCallbacks: statusCallbacks.length,
    told: Boolean(classic && message),
    recorded,
  });
}

/** The hand-back's record on the Classic conversation: the direct path's, TAC's conversation beside it. */
function tacRecordOf(run, at, aiRestored) {
  const recordOf = handedBackAttributes({}, run.ending, at, aiRestored).handedBack;
  return { ...recordOf, ai: TAC_NAME, orchestratorConversationId: run.ending.orchestratorConversationId };
}

function tacAnswerOf(run, status) {
  return {
    status,
    taskSid: run.ending.taskSid,
    conversationSid: run.ending.session.conversationSid,
    orchestratorConversationId: run.ending.orchestratorConversationId,
  };
}

module.exports = {
  respond,
  respondToAgent,
  taskEndingOf,
  agentRequestOf,
  handlerOf,
  mayHandBack,
  agentEndingOf,
  agentSetupOf,
  validated,
  handoffStateOf,
  handedBackAttributes,
  tacEndingOf,
  tacAgentEndingOf,
};
