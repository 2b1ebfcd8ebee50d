// Reading a task's attributes defensively: Flex hands a plugin the task's attributes parsed, but a task written by
// anything else may carry text that is not JSON, or values of any type where a string is expected.

export function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** An object from a value that is one, or is the JSON text of one; null for anything else. */
export function objectOf(value) {
  if (isObject(value)) return value;
  if (typeof value !== 'string') return null;
  try {
    const parsed = JSON.parse(value);
    return isObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** The task's attributes as an object (empty when there are none, or they do not parse). */
export function attributesOf(task) {
  return (task && objectOf(task.attributes)) || {};
}

/** A string cut to `limit` characters (whole code points, never half an emoji); '' for anything not a string. */
export function textOf(value, limit) {
  if (typeof value !== 'string') return '';
  const characters = Array.from(value.trim());
  return characters.length > limit ? characters.slice(0, limit).join('') : characters.join('');
}
