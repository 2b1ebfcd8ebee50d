// What the AI handed over, read from a task the kit created, on either path:
// - direct (functions/tools/flex-handover.js, and the voice path): the task attribute HANDOFF_ATTRIBUTE,
//   { reason, summary, source, requestedAt }, beside customerName, customerAddress, channelType, conversationSid;
// - Studio (studio/agent-handoff.json: the studio-handover tool and Twilio Agent Connect): the task attribute
//   STUDIO_HANDOFF_ATTRIBUTE, TAC's HandoffData { conversationId, storeId, profileId, attributes }, the tool's
//   reason, summary and requestedAt among its attributes, beside name, customerAddress, conversationSid or callSid.
// The names and limits come from the kit's contract (src/generated/contract.js, made by `handover generate`).
import {
  HANDOFF_ATTRIBUTE,
  HANDOFF_FIELDS,
  MAX_REASON_LENGTH,
  MAX_SUMMARY_LENGTH,
  STUDIO_HANDOFF_ATTRIBUTE,
  TASK_ATTRIBUTES,
} from '../../../generated/contract';
import { attributesOf, isObject, objectOf, textOf } from '../../../common/attributes';

// The longest text of a context field shown, and how many fields at most: the rest of the task is Flex's to show.
export const MAX_FIELD_LENGTH = 200;
export const MAX_FIELDS = 20;
// How the panel names the attributes the kit's functions set on a task (TASK_ATTRIBUTES, from the contract); one the
// contract adds later is shown under its own name until it is named here.
const LABELS = {
  channelType: 'Channel',
  customerName: 'Customer',
  customerAddress: 'Customer address',
  callSid: 'Call',
  calledNumber: 'Number called',
};
// The kit's keys only the functions need (the conversation's SIDs) or that Flex shows itself (`from`).
const FUNCTIONS_ONLY = new Set(['conversationSid', 'conversationServiceSid', 'from']);
// The task's attributes the panel shows, in the contract's order, messaging's then voice's.
const TASK_FIELDS = [...new Set([...TASK_ATTRIBUTES.messaging, ...TASK_ATTRIBUTES.voice])].filter(
  (name) => !FUNCTIONS_ONLY.has(name)
);
// What the handoff's own context (its extra fields, the Studio path's HandoffData attributes) does not repeat: the
// handoff's fields have rows of their own, the task's attributes are shown from the task.
const NOT_CONTEXT = new Set([...HANDOFF_FIELDS, ...FUNCTIONS_ONLY, ...TASK_FIELDS]);

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

/** A row of the panel; null (no row) for a value that is not there. */
function field(label, value) {
  if (value === null || value === undefined) return null;
  const text = fieldText(value);
  return text === '' ? null : { label: textOf(label, MAX_FIELD_LENGTH), value: text };
}

/** The fields of `extra` that the panel does not show apart, in their order. */
function extraFields(extra) {
  return Object.entries(extra || {})
    .filter(([name, value]) => !NOT_CONTEXT.has(name) && value !== null && value !== undefined)
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
  const taskValues = {
    ...attributes,
    channelType: attributes.channelType || said.channelType,
    customerName: customer,
    // An address the customer's name already says is not said twice.
    customerAddress: customer !== attributes.customerAddress ? attributes.customerAddress : null,
  };
  const fields = [
    ...TASK_FIELDS.map((name) => field(LABELS[name] || name, taskValues[name])),
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
