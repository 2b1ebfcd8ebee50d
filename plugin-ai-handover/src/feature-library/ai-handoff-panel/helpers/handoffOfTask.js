// What the AI handed over, read from a task the kit created, on either path:
// - direct (functions/tools/flex-handover.js, and the voice path): the task attribute HANDOFF_ATTRIBUTE,
//   { reason, summary, source, requestedAt }, beside customerName, customerAddress, channelType, conversationSid;
// - Studio (studio/agent-handoff.json: the studio-handover tool and Twilio Agent Connect): the task attribute
//   STUDIO_HANDOFF_ATTRIBUTE, TAC's HandoffData { conversationId, storeId, profileId, attributes }, the tool's
//   reason, summary and requestedAt among its attributes, beside name, customerAddress, conversationSid or callSid.
// The names and limits come from the kit's contract (src/generated/contract.js, made by `handover generate`).
import {
  HANDOFF_ATTRIBUTE,
  MAX_REASON_LENGTH,
  MAX_SUMMARY_LENGTH,
  STUDIO_HANDOFF_ATTRIBUTE,
} from '../../../generated/contract';
import { attributesOf, isObject, objectOf, textOf } from '../../../common/attributes';

// The longest text of a context field shown, and how many fields at most: the rest of the task is Flex's to show.
export const MAX_FIELD_LENGTH = 200;
export const MAX_FIELDS = 20;
// What the panel shows in its own rows, or what only the functions need: never repeated among the context fields.
const SHOWN_APART = new Set([
  'reason',
  'summary',
  'requestedAt',
  'source',
  'conversationSid',
  'conversationServiceSid',
  'channelType',
  'customerAddress',
  'customerName',
]);

function dateOf(value) {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A value as one line of text: strings as they are, anything else as JSON; cut to MAX_FIELD_LENGTH. */
function fieldText(value) {
  if (typeof value === 'string') return textOf(value, MAX_FIELD_LENGTH);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  try {
    return textOf(JSON.stringify(value), MAX_FIELD_LENGTH);
  } catch {
    return '';
  }
}

function field(label, value) {
  const text = fieldText(value);
  return text === '' ? null : { label: textOf(label, MAX_FIELD_LENGTH), value: text };
}

/** The fields of `extra` that the panel does not show apart, in their order. */
function extraFields(extra) {
  return Object.entries(extra || {})
    .filter(([name, value]) => !SHOWN_APART.has(name) && value !== null && value !== undefined)
    .map(([name, value]) => field(name, value));
}

/**
 * The handoff of a task, for the panel: `{ path, reason, summary, handedOffAt, fields }`, or null for a task the
 * kit did not create (nor anything that is not a task). `fields` are the handoff's other context, `{ label, value }`
 * text, at most MAX_FIELDS. Never throws.
 */
export function handoffOfTask(task) {
  const attributes = attributesOf(task);
  const direct = objectOf(attributes[HANDOFF_ATTRIBUTE]);
  const studio = direct ? null : objectOf(attributes[STUDIO_HANDOFF_ATTRIBUTE]);
  if (!direct && !studio) return null;
  const said = direct || (isObject(studio.attributes) ? studio.attributes : {});
  const customer = attributes.customerName || attributes.name || said.customerName;
  const fields = [
    field('Channel', attributes.channelType || said.channelType),
    field('Customer', customer),
    customer !== attributes.customerAddress ? field('Customer address', attributes.customerAddress) : null,
    field('Call', attributes.callSid),
    field('Handed off through', said.source),
    ...(studio
      ? [
          field('Agent Connect conversation', studio.conversationId !== attributes.conversationSid ? studio.conversationId : null),
          field('Agent Connect profile', studio.profileId),
          field('Agent Connect store', studio.storeId),
        ]
      : []),
    ...extraFields(said),
  ].filter(Boolean);
  return {
    path: direct ? 'direct' : 'studio',
    reason: textOf(said.reason, MAX_REASON_LENGTH),
    summary: textOf(said.summary, MAX_SUMMARY_LENGTH),
    // TAC's voice handoff says no time of its own: the task's creation is when Flex got the customer.
    handedOffAt: dateOf(said.requestedAt) || dateOf(task && task.dateCreated),
    fields: fields.slice(0, MAX_FIELDS),
  };
}
