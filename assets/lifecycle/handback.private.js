// The hand-back: after the human agent, the customer's conversation goes back to the AI. TaskRouter calls
// functions/lifecycle/task-events with the workspace's events; at the end of a task the kit created (the
// agent's wrap-up or completion, or its cancelation when no agent took it in time), the bot's webhooks that
// the handoff removed are made again, the handoff's claim is given back (so that the AI may hand off again),
// the hand-back is recorded on the conversation for the AI to read, and the customer is told what was
// configured. Once per task, whatever TaskRouter repeats or reorders: a Sync claim keyed by the task.
// The steps it shares with the handoff (the claim, the conversation, the bot's webhooks) come in as `steps`,
// assets/tools/handoff.private.js; the pure helpers below are exported for Node's unit tests.
'use strict';

const crypto = require('crypto');

const NAME = 'task-events';
// What the handoff recorded on the conversation, taken away by the hand-back.
const HANDOFF_KEYS = ['handedOff', 'handedOffAt', 'handoffClaimId', 'handoffBotWebhooks'];

function answer(statusCode, body) {
  return { statusCode, body };
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
  const kind = event.EventType.slice('task.'.length);
  let attributes;
  try {
    attributes = JSON.parse(event.TaskAttributes);
  } catch {
    return { ...answer(400, { status: 'failed', error: 'TaskAttributes is not JSON.' }), ok: false };
  }
  const handoff = attributes && attributes[contract.HANDOFF_ATTRIBUTE];
  const { conversationSid, conversationServiceSid } = attributes || {};
  if (!handoff || typeof conversationSid !== 'string' || typeof conversationServiceSid !== 'string') {
    return { ignored: 'the task was not created by a handover tool' };
  }
  return {
    ok: true,
    kind,
    taskSid: event.TaskSid,
    session: { serviceSid: conversationServiceSid, conversationSid },
    requestedAt: handoff.requestedAt,
    worker: event.WorkerSid ? { sid: event.WorkerSid, name: event.WorkerName || null } : null,
    outcome: event.TaskCompletedReason || event.TaskCanceledReason || null,
  };
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
  let outcome;
  try {
    outcome = await handBack({ Twilio, handover, steps, context, event, startedAt });
  } catch (error) {
    console.error(`${NAME}: unexpected failure on task ${event && event.TaskSid}: ${(error && error.stack) || error}`);
    outcome = answer(500, { status: 'failed', error: 'The hand-back failed unexpectedly; its log says why.' });
  }
  const response = new Twilio.Response();
  response.setStatusCode(outcome.statusCode);
  response.appendHeader('Content-Type', 'application/json');
  response.setBody(outcome.body);
  return response;
}

async function handBack({ Twilio, handover, steps, context, event, startedAt }) {
  // Twilio's signature first: anything else is answered 401 before any Twilio request.
  const caller = handover.checkSignature({ context, event, validateSignature: Twilio.validateRequest });
  if (!caller.ok) return caller;
  const config = handover.readConfig(context, event, NAME);
  if (!config.ok) return config;
  const ending = taskEndingOf(event, handover.contract);
  if (ending.ignored) return answer(200, { status: 'ignored', reason: ending.ignored });
  if (!ending.ok) return ending;

  const base = {
    handover,
    tool: { name: NAME, routeOf: () => `task ${ending.taskSid}` },
    config,
    session: ending.session,
    client: context.getTwilioClient({ timeout: config.attemptTimeoutMs }),
    deadline: handover.deadlineOf(startedAt, config),
  };
  const run = { ...base, claim: handBackClaimOf(handover, config, ending) };
  // First round: this task's claim, and beside it the conversation and the agent who had the task (a task
  // event names no worker).
  const [claimed, conversation, worker] = await Promise.all([
    steps.takeClaim(run),
    steps.readConversation(run),
    ending.worker || ending.kind === 'canceled' || !/^WS[0-9a-fA-F]{32}$/.test(event.WorkspaceSid || '')
      ? ending.worker
      : agentOf(run, event.WorkspaceSid),
  ]);
  return handBackOnce(steps, { ...run, ending: { ...ending, worker } }, claimed, conversation);
}

/** The hand-back under this event's claim, once the first round is in. */
async function handBackOnce(steps, run, claimed, conversation) {
  const { handover, config, ending } = run;
  if (claimed.duplicate) return answer(200, { status: 'already_handed_back', taskSid: ending.taskSid });
  if (!claimed.ok) {
    steps.logFailure(run, 'Claiming the hand-back in Sync', claimed.error);
    if (claimed.mayExist) await steps.releaseClaim(run);
    return answer(503, { status: 'retryable', error: 'Could not claim the hand-back; TaskRouter may send the event again.' });
  }
  if (!conversation) {
    await steps.releaseClaim(run);
    return answer(503, { status: 'retryable', error: 'Could not read the conversation; TaskRouter may send the event again.' });
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
    return answer(503, { status: 'retryable', error: "Could not make the bot's webhooks again; TaskRouter may send the event again." });
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
  const handled = ['accepted', 'wrapping', 'completed'];
  try {
    const reservations = await run.handover.withRetries(
      () => run.client.taskrouter.v1.workspaces(workspaceSid).tasks(run.claim.item.key).reservations.list({ limit: 20 }),
      run.deadline
    );
    const reservation = reservations.find((r) => handled.includes(r.reservationStatus));
    return reservation ? { sid: reservation.workerSid, name: reservation.workerName } : null;
  } catch (error) {
    console.warn(`${NAME}: no agent found for task ${run.claim.item.key}: ${error.status || '-'} ${error.code || '-'}`);
    return null;
  }
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

module.exports = { respond, taskEndingOf, handoffStateOf, handedBackAttributes };
