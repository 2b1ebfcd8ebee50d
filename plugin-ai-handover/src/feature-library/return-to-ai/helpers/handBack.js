// The call to the kit's hand-back (functions/lifecycle/hand-back.js): the agent's Flex token and the task, as a form,
// the way Flex plugins call Functions (a form POST needs no CORS preflight; the function also reads JSON).

// The function's answers that mean the customer is with the AI again (or the chat already ended: nothing to give
// back), after which the agent's side is wrapped up.
const DONE = new Set(['handed_back', 'already_handed_back', 'recorded']);

/** The agent's Flex token: where Flex 2.x keeps it after sign-in. */
export function flexTokenOf(manager) {
  const state = manager && manager.store && typeof manager.store.getState === 'function' ? manager.store.getState() : null;
  const fromSession = state && state.flex && state.flex.session && state.flex.session.ssoTokenPayload;
  const token = (fromSession && fromSession.token) || (manager && manager.user && manager.user.token);
  return typeof token === 'string' && token !== '' ? token : null;
}

/**
 * Hand the task's customer back to the AI: `{ ok: true, status }` once the function says it is done, else
 * `{ ok: false, message }` with what the function (or the network) said, for the agent to read.
 */
export async function handBack({ url, token, taskSid, fetchImpl = fetch }) {
  let response;
  try {
    response = await fetchImpl(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=UTF-8' },
      body: new URLSearchParams({ Token: token, TaskSid: taskSid }).toString(),
    });
  } catch {
    return { ok: false, message: `Could not reach the hand-back at ${url}: check the network, then try again.` };
  }
  let body;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (response.status === 200 && body && DONE.has(body.status)) return { ok: true, status: body.status };
  if (response.status === 200 && body && body.status === 'ignored') {
    return { ok: false, message: `Nothing was handed back: ${String(body.reason || 'the function ignored the task')}.` };
  }
  const said = body && typeof body.error === 'string' ? body.error : 'no explanation';
  return { ok: false, message: `Return to AI failed (${response.status}): ${said}` };
}
