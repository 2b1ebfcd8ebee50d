// Is this conversation with a human agent? A guard for a bot that gets a Conversations service's messages
// through a SERVICE-level webhook (the service's PostWebhookUrl): the handoff removes a bot's
// conversation-scoped webhooks, but it cannot remove a service's, so such a bot asks on each onMessageAdded
// and stays silent while a human agent has the conversation.
//
// Copy this file into the bot. It needs nothing but the twilio package the bot already has (and only for the
// client it is given). It reads what the Flex handover kit records on the conversation's attributes: a
// handoff is `handedOff: true` with `handedOffAt` (ISO 8601) of the last 24 hours; the hand-back takes them
// away again (and records `handedBack`). py/handover/contract.py's CLAIM_TTL_SECONDS is that window, and
// guards/handoff_guard.py is the same guard in Python: both answer alike for every attributes text.
//
//   const { conversationIsHandedOff } = require('./handoff-guard');
//
//   // The bot's onMessageAdded handler (Express), after its check of the X-Twilio-Signature:
//   app.post('/bot', async (req, res) => {
//     const { ChatServiceSid, ConversationSid, Body } = req.body;
//     if (await conversationIsHandedOff(client, ChatServiceSid, ConversationSid)) return res.sendStatus(200); // silent
//     await answer(ConversationSid, Body);
//     res.sendStatus(200);
//   });
'use strict';

// How long a handoff record counts: the Flex handover kit's contract.CLAIM_TTL_SECONDS
// (py/handover/contract.py), 24 hours. Keep the two equal: the kit's tests/guards check it.
const HANDOFF_WINDOW_SECONDS = 86400;

// ISO 8601's extended date and time, as the kit writes it (`new Date().toISOString()`) and as Python's
// isoformat() does: a date, optionally a time (minutes, seconds, a fraction) with an offset. No offset: UTC.
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}:\d{2})?)?$/;

/** The object an attributes value holds (JSON text, or an object already parsed), or null for anything else. */
function attributesObject(attributes) {
  let value = attributes;
  if (typeof attributes === 'string') {
    try {
      value = JSON.parse(attributes);
    } catch {
      return null;
    }
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
}

/** Milliseconds since the epoch of an ISO 8601 text (fraction cut to the millisecond), or NaN if it is none. */
function isoMilliseconds(text) {
  const match = typeof text === 'string' ? ISO_8601.exec(text) : null;
  if (!match) return NaN;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part || 0));
  const fraction = Number(((match[7] || '') + '000').slice(0, 3));
  const offset = match[8] && match[8].toUpperCase() !== 'Z' ? match[8] : '+00:00';
  const offsetHours = Number(offset.slice(1, 3));
  const offsetMinutes = Number(offset.slice(4, 6));
  if (year < 1 || hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return NaN;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC, which reads the years 0-99 as 1900-1999
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return NaN;
  const sign = offset[0] === '-' ? -1 : 1;
  const offsetMs = sign * (offsetHours * 60 + offsetMinutes) * 60000;
  return date.getTime() + ((hour * 60 + minute) * 60 + second) * 1000 + fraction - offsetMs;
}

/**
 * Whether a conversation's attributes (its JSON text as Twilio answers it, or the object parsed) record a
 * handoff of the last HANDOFF_WINDOW_SECONDS at `now`: a human agent has the conversation, and the bot
 * stays silent. `now` is milliseconds since the epoch or a Date (null or undefined: this moment; any other
 * value is no time, and false). Anything else is false, so that the bot answers: no handoff, one handed
 * back, one older than the window, and attributes that are not a JSON object, or whose `handedOff` is not
 * `true`, or whose `handedOffAt` is not an ISO 8601 time. A `handedOffAt` ahead of `now` (the bot's clock
 * behind the kit's) counts, as the kit counts it.
 */
function isHandedOff(attributes, now = Date.now()) {
  const record = attributesObject(attributes);
  if (!record || record.handedOff !== true) return false;
  const nowMs = now === null || now === undefined ? Date.now() : now instanceof Date ? now.getTime() : now;
  const age = (typeof nowMs === 'number' ? nowMs : NaN) - isoMilliseconds(record.handedOffAt);
  return age < HANDOFF_WINDOW_SECONDS * 1000; // false when either time is not one (NaN)
}

/**
 * Whether the conversation is handed off to a human agent now: one fetch of the conversation with the
 * bot's twilio client (`require('twilio')(accountSid, authToken)`), then isHandedOff of its attributes.
 * A failed fetch rejects with the client's error: the bot decides (to answer anyway, catch it as false).
 */
async function conversationIsHandedOff(client, serviceSid, conversationSid, now = Date.now()) {
  const conversation = await client.conversations.v1.services(serviceSid).conversations(conversationSid).fetch();
  return isHandedOff(conversation.attributes, now);
}

module.exports = { HANDOFF_WINDOW_SECONDS, conversationIsHandedOff, isHandedOff };
