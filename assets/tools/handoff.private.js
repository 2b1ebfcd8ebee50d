// The handoff every handover tool makes (and the steps the hand-back shares: the claim, the conversation, the
// bot's webhooks), whatever it hands the conversation to: who may call, the
// configuration and the request, the conversation claimed in Sync (and beside it, as configured, whether
// anyone can take the conversation: opening hours, a queue's available workers), the delivery made once (retried,
// and looked for when an answer is lost) with the handoff recorded on the conversation beside it, the
// claim given back when it fails or taken over when a call left it stranded, one log line per failure,
// and the answer. A tool says only what it delivers (see `respond`); the pure helpers come in as
// `handover`, made of the contract by assets/tools/handover.private.js. No work on require.
'use strict';

/**
 * Answer one call of a handover tool, as a Twilio.Response with a JSON body.
 *
 * `tool` is what is particular to the tool:
 * - `name`: its name ('flex-handover'), which its configuration is read for and its log lines start with;
 * - `sidName`: what its answer calls the SID of what it delivered ('interactionSid');
 * - `delivering`: what its answers call the delivery ('Creating the Flex interaction');
 * - `api`: what its log calls the API it delivers through ('Interactions API');
 * - `routeOf(config)`: where it delivers to, for the log ('workflow WW…');
 * - `build(run)`: the request that delivers (`run.customerName`: the web chat name, else null);
 * - `deliver(run, request)`: make the request, resolving to `{ sid }`;
 * - `find(run, request)`: what this very handoff delivered, `{ sid }` or undefined, after a delivery whose
 *   answer was lost; it throws when it cannot tell, so that nothing is delivered while that is unknown;
 * - `fixFor(error, run)` (optional): what to do about a delivery Twilio refused, for the 502 answer;
 * - `silencesBot` (optional): the handoff removes the bot's webhooks from the conversation (a Studio flow's
 *   Send to Flex does that itself).
 * `run` holds { handover, tool, client, config, session, identity, handoff, claim, deadline, customerName,
 * botWebhooks, unavailable }.
 * `Twilio` is the runtime's global of that name (its Response and validateRequest).
 */
async function respond({ Twilio, handover, tool, context, event, startedAt }) {
  let outcome;
  try {
    outcome = await handOff({ Twilio, handover, tool, context, event, startedAt });
  } catch (error) {
    // A fault of this code, not of the request or of Twilio: said once in the log, never as a 200.
    console.error(`${tool.name}: unexpected failure: ${(error && error.stack) || error}`);
    outcome = { statusCode: 500, body: { status: 'failed', error: 'The handover tool failed unexpectedly; its log says why.' } };
  }
  const response = new Twilio.Response();
  response.setStatusCode(outcome.statusCode);
  response.appendHeader('Content-Type', 'application/json');
  response.setBody(outcome.body);
  return response;
}

// What each tool delivered in this instance, by conversation: a warm instance names it in its answer
// to a duplicate call at no cost. A cold one answers without it. The newest few thousand of each tool
// are kept, so that a long-lived instance does not grow without end.
const deliveredByTool = new Map();
const DELIVERED_KEPT = 5000;

function remember(tool, conversationSid, sid) {
  if (!deliveredByTool.has(tool.name)) deliveredByTool.set(tool.name, new Map());
  const delivered = deliveredByTool.get(tool.name);
  delivered.set(conversationSid, sid);
  if (delivered.size > DELIVERED_KEPT) delivered.delete(delivered.keys().next().value);
}

function recall(tool, conversationSid) {
  const delivered = deliveredByTool.get(tool.name);
  return delivered && delivered.get(conversationSid);
}

async function handOff({ Twilio, handover, tool, context, event, startedAt }) {
  // Who may call comes first: an unauthenticated request learns nothing and costs no Twilio call.
  const secret = handover.readToken(context, event);
  if (!secret.ok) return secret;
  const caller = handover.authenticate({ context, event, token: secret.token, validateSignature: Twilio.validateRequest });
  if (!caller.ok) return caller;
  const config = handover.readConfig(context, event, tool.name);
  if (!config.ok) return config;
  const session = handover.parseSession(handover.headerOf(event, 'x-session-id'));
  if (!session.ok) return session;
  const said = handover.parseContext(event);
  if (!said.ok) return said;
  const identity = handover.parseIdentity(handover.headerOf(event, 'x-identity'));
  const handoff = { reason: said.reason, summary: said.summary, source: context.PATH, requestedAt: new Date(startedAt).toISOString() };

  const run = {
    handover,
    tool,
    config,
    session,
    identity,
    handoff,
    client: context.getTwilioClient({ timeout: config.attemptTimeoutMs }),
    claim: handover.claimOf({ config, session, handoff }),
    deadline: handover.deadlineOf(startedAt, config),
  };
  // First round: the claim, and beside it what the delivery needs (the conversation's attributes, to
  // record the handoff beside the delivery; the web chat name; the bot's webhooks, to remove beside the
  // delivery) and whether anyone can take the conversation (only as configured), so that the delivery is
  // the second and last round of a first handoff.
  const [claimed, conversation, customerName, botWebhooks, unavailable] = await Promise.all([
    takeClaim(run),
    readConversation(run),
    identity.lookupIdentity ? webchatName(run) : null,
    tool.silencesBot ? listBotWebhooks(run) : [],
    unavailability(run, startedAt),
  ]);
  const ready = { ...run, customerName, botWebhooks, unavailable };
  if (claimed.duplicate) return answerDuplicate(ready, conversation);
  if (!claimed.ok) {
    logFailure(run, 'Claiming the conversation in Sync', claimed.error);
    if (claimed.mayExist) await releaseClaim(run);
    return answerFailure(run, claimed.error, 'Claiming the conversation');
  }
  // A handoff of the day recorded by an earlier version of this function, which no claim here stands for:
  // the conversation is not handed off again, and the new claim stands for it from now on. (A record of
  // this version's without its claim is one a failed handoff is taking back.)
  const record = conversation && handover.handoffRecordOf(conversation.attributes, Date.now());
  if (record && record.claimId === null) return handover.alreadyHandedOff(tool.sidName, recall(tool, session.conversationSid));
  // No one can take it: nothing is delivered or written (the bot keeps its webhooks), and the claim is given back.
  if (unavailable) {
    await releaseClaim(run);
    return unavailable;
  }
  return deliver(ready, conversation);
}

/**
 * Why no one can take the conversation now, as the answer that says so, or null when someone can or it cannot be
 * told: outside the opening hours (HANDOVER_HOURS, no request), else with no available worker in
 * HANDOVER_QUEUE_SID when HANDOVER_WHEN_NO_AGENT is answer (its real-time statistics, asked once beside the
 * claim: a retry would take the delivery's time). A check that fails hands off as without it.
 */
async function unavailability(run, nowMs) {
  const { handover, client, config } = run;
  const closed = handover.closedAnswer(config, nowMs);
  if (closed) return closed;
  if (!config.queueSid || config.whenNoAgent !== 'answer') return null;
  let statistics;
  try {
    statistics = await client.taskrouter.v1
      .workspaces(config.workspaceSid)
      .taskQueues(config.queueSid)
      .realTimeStatistics()
      .fetch({ taskChannel: config.taskChannel });
  } catch (error) {
    logFailure(run, `Reading the real-time statistics of queue ${config.queueSid} (handing off without them)`, error);
    return null;
  }
  return handover.noAgentAnswer(config, statistics);
}

/**
 * Deliver the conversation under this call's claim, recording the handoff on the conversation and
 * removing the bot's webhooks beside it. A failed delivery gives the claim back, takes the record back
 * and makes the bot's webhooks again, so that the customer has the bot and the next call can try.
 */
async function deliver(run, conversation) {
  const { handover, tool, session, botWebhooks } = run;
  const request = tool.build(run);
  const marking = conversation ? markConversation(run, conversation) : null;
  const silencing = Promise.all(botWebhooks.map((webhook) => removeWebhook(run, webhook)));
  let delivered;
  let failure;
  try {
    delivered = await handover.withRetries(() => tool.deliver(run, request), run.deadline, {
      reserveMs: handover.RELEASE_RESERVE_MS,
      settle: () => tool.find(run, request),
    });
  } catch (error) {
    // Out of time with the last delivery's outcome unknown: one last look, in the time kept back.
    delivered = error instanceof handover.OutOfTime && error.unsettled ? await lastLook(run, request) : undefined;
    failure = error;
  }
  let recorded = marking ? await marking : false;
  await silencing;
  if (!delivered) {
    logFailure(run, tool.api, failure);
    // The record is taken back even when its write seemed to fail: its answer may have been lost. The bot is
    // back before the claim is given back, so that no next call can hand off while the bot is still coming back.
    await Promise.all([marking ? unmarkConversation(run, conversation) : null, restoreBotWebhooks(run, botWebhooks)]);
    await releaseClaim(run);
    return answerFailure(run, failure, tool.delivering, tool.fixFor && tool.fixFor(failure, run));
  }
  remember(tool, session.conversationSid, delivered.sid);
  // The attributes could not be read beside the claim: read and record them now.
  if (!conversation) recorded = await markConversation(run, null);
  // Without the record, nothing could make the bot's webhooks again after the agent: they are made now.
  if (!recorded) await restoreBotWebhooks(run, botWebhooks);
  return handover.handedOff(tool.sidName, delivered.sid);
}

function answerFailure({ handover }, error, what, fix) {
  return error instanceof handover.OutOfTime ? handover.outOfTime(error, what) : handover.twilioFailure(error, what, fix);
}

/**
 * The answer to a call whose claim another call holds. The conversation's record of the handoff, read
 * beside the claim, settles it. Without one, the claim itself: a young one belongs to a call still under
 * way; one older than any call lives was left by a call that stopped before it delivered, and is taken
 * over (one conditional write, so that of several such calls exactly one goes on), unless what it was
 * for turns out delivered after all.
 */
async function answerDuplicate(run, conversation) {
  const { handover, tool, session, deadline } = run;
  const alreadyHandedOff = (sid) => handover.alreadyHandedOff(tool.sidName, sid || recall(tool, session.conversationSid));
  if (conversation && handover.handoffRecordOf(conversation.attributes, Date.now())) return alreadyHandedOff();
  let held;
  try {
    held = await handover.withRetries(() => claimItem(run).fetch(), deadline);
  } catch (error) {
    // Given back since the create was refused: the call that held it failed, and this one may try again.
    if (error.status === 404) return handover.tryAgain('Another call for this conversation gave up handing it off just now; call again.');
    logFailure(run, 'Reading the claim of the conversation', error);
    return alreadyHandedOff();
  }
  if (!handover.isStranded(held, Date.now())) return alreadyHandedOff();

  const earlier = { ...run, handoff: { ...run.handoff, requestedAt: held.data && held.data.requestedAt } };
  let found;
  try {
    found = await handover.withRetries(() => tool.find(earlier, tool.build(earlier)), deadline);
  } catch (error) {
    logFailure(run, 'Looking for the delivery of a stranded claim', error);
    return handover.tryAgain('Could not tell whether an earlier call handed this conversation off; call again.');
  }
  if (found) return alreadyHandedOff(found.sid);
  // No one can take it: the stranded claim is left for a call that can.
  if (run.unavailable) return run.unavailable;
  const takenOver = await takeOver(run, held);
  if (!takenOver.ok) {
    if (takenOver.lost) return alreadyHandedOff();
    logFailure(run, 'Taking over a stranded claim', takenOver.error);
    return answerFailure(run, takenOver.error, 'Taking over the claim of the conversation');
  }
  console.warn(
    `${tool.name}: took over the claim of conversation ${session.conversationSid}, left at ` +
      `${held.data && held.data.requestedAt} by a call that did not hand it off`
  );
  return deliver(run, conversation);
}

/**
 * Replace a stranded claim with this call's, if no other call replaced it first (If-Match on its revision):
 * { ok }, { lost } when another call did, or { error }. A write whose answer was lost is checked by claimId.
 */
async function takeOver(run, held) {
  const { handover, claim, deadline } = run;
  const item = claimItem(run);
  let mayHaveWritten = false;
  const attempt = async () => {
    try {
      return await item.update({ data: claim.item.data, itemTtl: claim.item.itemTtl, ifMatch: held.revision });
    } catch (error) {
      if (error.status === 412 && mayHaveWritten) {
        const current = await item.fetch();
        if (current.data && current.data.claimId === claim.item.data.claimId) return current;
      }
      mayHaveWritten = mayHaveWritten || handover.mayHaveSucceeded(error);
      throw error;
    }
  };
  try {
    await handover.withRetries(attempt, deadline, { reserveMs: handover.RELEASE_RESERVE_MS });
    return { ok: true };
  } catch (error) {
    // 412: another call replaced it first; 404: the claim lapsed or was given back, and a call claims anew.
    return error.status === 412 || error.status === 404 ? { ok: false, lost: true } : { ok: false, error };
  }
}

/**
 * Take `run.claim` (the conversation's, or a hand-back's): { ok } when this call holds it, { duplicate }
 * when another does. A create whose answer was lost may have made the claim: a later 409 is then checked
 * against this call's claimId, so that the lost answer is not taken for another call's claim.
 */
async function takeClaim(run) {
  const { handover, client, claim, deadline } = run;
  let mayExist = false;
  const attempt = async () => {
    try {
      return await createClaim(client, claim);
    } catch (error) {
      if (handover.isClaimedAlready(error) && mayExist) {
        const item = await claimItem(run).fetch();
        if (item.data && item.data.claimId === claim.item.data.claimId) return item;
      }
      mayExist = mayExist || handover.mayHaveSucceeded(error);
      throw error;
    }
  };
  try {
    await handover.withRetries(attempt, deadline, { reserveMs: handover.RELEASE_RESERVE_MS });
    return { ok: true };
  } catch (error) {
    return handover.isClaimedAlready(error) ? { ok: false, duplicate: true } : { ok: false, error, mayExist };
  }
}

/** Create the claim; a Sync Map that does not exist yet is made once, then the claim is tried again. */
async function createClaim(client, claim) {
  const maps = client.sync.v1.services(claim.serviceSid).syncMaps;
  try {
    return await maps(claim.map).syncMapItems.create(claim.item);
  } catch (error) {
    if (error.status !== 404) throw error;
  }
  try {
    await maps.create({ uniqueName: claim.map });
  } catch (error) {
    // A concurrent first handoff made it: the map exists either way.
    if (error.status !== 409) throw error;
  }
  return maps(claim.map).syncMapItems.create(claim.item);
}

function claimItem({ client, claim }) {
  return client.sync.v1.services(claim.serviceSid).syncMaps(claim.map).syncMapItems(claim.item.key);
}

/** Give `run.claim` back after a failed handoff (or a hand-back), so that the next call can try again. */
async function releaseClaim(run) {
  const { handover, tool, claim, session, deadline } = run;
  const item = claimItem(run);
  try {
    await handover.withRetries(async () => {
      try {
        await item.remove();
      } catch (error) {
        // Gone already: a retried delete whose first answer was lost, or never made.
        if (error.status !== 404) throw error;
      }
    }, deadline);
  } catch (error) {
    // Left standing, the claim is taken over by a call once it is older than any call lives.
    console.error(
      `${tool.name}: could not release the claim of conversation ${session.conversationSid} ` +
        `(Sync service ${claim.serviceSid}, map ${claim.map}): ${error.status || '-'} ${error.code || '-'}`
    );
  }
}

/** `find`, for one last look when time is up: undefined when the search fails too. */
async function lastLook(run, request) {
  try {
    return await run.tool.find(run, request);
  } catch {
    return undefined;
  }
}

function conversationOf({ client, session }) {
  return client.conversations.v1.services(session.serviceSid).conversations(session.conversationSid);
}

/** The conversation, read once beside the claim; null when that fails (it is read again after the delivery). */
async function readConversation(run) {
  try {
    return await conversationOf(run).fetch();
  } catch {
    return null;
  }
}

/**
 * Record the handoff on the conversation (every attribute already there kept, so that a channel webhook
 * can stop giving the customer's messages to the AI), with the bot's webhooks it removes: from
 * `conversation` as read beside the claim, else read now. Whether it was recorded; the handoff stands
 * if this fails.
 */
async function markConversation(run, conversation) {
  const { handover, tool, session, claim, deadline, botWebhooks } = run;
  try {
    await handover.withRetries(async () => {
      const current = conversation || (await conversationOf(run).fetch());
      const attributes = handover.handedOffAttributes(current.attributes, claim, botWebhooks);
      return conversationOf(run).update({ attributes: JSON.stringify(attributes) });
    }, deadline);
    return true;
  } catch (error) {
    console.error(
      `${tool.name}: could not record the handoff of conversation ${session.conversationSid} in its attributes: ` +
        `${error.status || '-'} ${error.code || '-'} ${error.message}`
    );
    return false;
  }
}

function webhooksOf(run) {
  return conversationOf(run).webhooks;
}

/**
 * The bot's webhooks on the conversation, read once beside the claim (a retry would take the delivery's time);
 * none when that fails: the bot then keeps them.
 */
async function listBotWebhooks(run) {
  try {
    return run.handover.botWebhooksOf(await webhooksOf(run).list());
  } catch (error) {
    logFailure(run, "Listing the conversation's webhooks (the bot keeps them)", error);
    return [];
  }
}

/** Remove one of the bot's webhooks, beside the delivery; one gone already counts as removed. */
async function removeWebhook(run, webhook) {
  try {
    await run.handover.withRetries(async () => {
      try {
        await webhooksOf(run)(webhook.sid).remove();
      } catch (error) {
        if (error.status !== 404) throw error;
      }
    }, run.deadline);
  } catch (error) {
    logFailure(run, `Removing the bot's webhook ${webhook.sid}`, error);
  }
}

/**
 * Make those of the saved webhooks that the conversation lacks again (a retry or a webhook never removed
 * makes nothing twice); whether the conversation has them all now.
 */
async function restoreBotWebhooks(run, saved) {
  if (!saved.length) return true;
  const { handover } = run;
  try {
    await handover.withRetries(async () => {
      for (const webhook of handover.missingWebhooks(saved, await webhooksOf(run).list())) {
        await webhooksOf(run).create(handover.webhookRequestOf(webhook));
      }
    }, run.deadline);
    return true;
  } catch (error) {
    logFailure(run, "Making the bot's webhooks again", error);
    return false;
  }
}

/** Take back the record of a handoff that failed, so that nothing tells the conversation's webhooks otherwise. */
async function unmarkConversation(run, conversation) {
  const { handover, tool, session, claim, deadline } = run;
  try {
    await handover.withRetries(async () => {
      const current = await conversationOf(run).fetch();
      const attributes = handover.unmarkedAttributes(current.attributes, conversation.attributes, claim);
      return attributes && conversationOf(run).update({ attributes: JSON.stringify(attributes) });
    }, deadline);
  } catch (error) {
    console.error(
      `${tool.name}: could not take back the handoff record of conversation ${session.conversationSid}, ` +
        `which was not handed off: ${error.status || '-'} ${error.code || '-'} ${error.message}`
    );
  }
}

function logFailure({ tool, session, config }, what, error) {
  console.error(
    `${tool.name}: ${what} failed for conversation ${session.conversationSid} ` +
      `(service ${session.serviceSid}, ${tool.routeOf(config)}): ${error.status || '-'} ${error.code || '-'} ${error.message}`
  );
}

/** The web chat customer's friendly name; the handoff goes on without it if the lookup fails. */
async function webchatName({ tool, client, session, identity }) {
  try {
    const user = await client.conversations.v1.services(session.serviceSid).users(identity.lookupIdentity).fetch();
    return user.friendlyName || null;
  } catch (error) {
    console.warn(
      `${tool.name}: no friendly name for ${identity.lookupIdentity} in service ${session.serviceSid} ` +
        `(conversation ${session.conversationSid}): ${error.status || '-'} ${error.code || '-'}`
    );
    return null;
  }
}

module.exports = { respond, claimItem, conversationOf, logFailure, readConversation, releaseClaim, restoreBotWebhooks, takeClaim };
