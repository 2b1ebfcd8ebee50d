import React from 'react';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';

import ReturnToAiButton, { canReturnToAi } from '../components/ReturnToAiButton';
import { directTask, studioTask, tacCallTask, tacMessagingTask, flexTask, TASK_SID } from '../../../test-support/kitTasks';

// TAC's HandoffData as its escalation tool sends it (tac/tools/handoff.py): its Orchestrator conversation's TTID.
const TAC_HANDOFF = {
  conversationId: 'conv_conversation_01kbx8gq3fjz0m2r5w7e9h4c6t',
  storeId: 'mem_store_01kbx8gq3fjz0m2r5w7e9h4c6v',
  profileId: 'mem_profile_01kbx8gq3fjz0m2r5w7e9h4c6w',
  attributes: { reason: 'r' },
};

const BASE_URL = 'https://handover-1234-dev.twil.io';
const TOKEN = 'eyJ.flex.token';

function managerWith(options = {}) {
  const { token = TOKEN, userToken } = options;
  const baseUrl = 'baseUrl' in options ? options.baseUrl : BASE_URL;
  return {
    store: { getState: () => ({ flex: { session: { ssoTokenPayload: token ? { token } : undefined } } }) },
    user: userToken ? { token: userToken } : {},
    serviceConfiguration: { ui_attributes: baseUrl === undefined ? {} : { handoverBaseUrl: baseUrl } },
  };
}

function answering(status, body) {
  return jest.fn(async () => ({ status, json: async () => body }));
}

function flexWith(invokeAction = jest.fn(async () => undefined)) {
  return { Actions: { invokeAction } };
}

function renderButton({ task = directTask({ reason: 'refund' }), manager = managerWith(), fetchImpl, flex = flexWith() } = {}) {
  render(<ReturnToAiButton task={task} manager={manager} flex={flex} fetchImpl={fetchImpl} />);
  return { flex, fetchImpl };
}

const button = () => screen.getByRole('button', { name: 'Return to AI' });

test("hands the task back with the agent's Flex token, then wraps the agent's side up through Flex", async () => {
  const { flex, fetchImpl } = renderButton({ fetchImpl: answering(200, { status: 'handed_back', taskSid: TASK_SID }) });
  fireEvent.click(button());
  await screen.findByText('The customer is with the AI again. Finish your wrap-up.');
  expect(fetchImpl).toHaveBeenCalledTimes(1);
  const [url, request] = fetchImpl.mock.calls[0];
  expect(url).toBe(`${BASE_URL}/lifecycle/hand-back`);
  expect(request.method).toBe('POST');
  expect(request.headers).toEqual({ 'Content-Type': 'application/x-www-form-urlencoded;charset=UTF-8' });
  expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({ Token: TOKEN, TaskSid: TASK_SID });
  expect(flex.Actions.invokeAction.mock.calls).toEqual([['WrapupTask', { sid: 'WR' + 'f'.repeat(32) }]]);
  expect(button().disabled).toBe(true); // once: the task is the AI's again
});

test.each(['already_handed_back', 'recorded'])('wraps up too when the function answers %s', async (status) => {
  const { flex } = renderButton({ fetchImpl: answering(200, { status }) });
  fireEvent.click(button());
  await waitFor(() => expect(flex.Actions.invokeAction).toHaveBeenCalledWith('WrapupTask', expect.anything()));
});

test.each([
  [401, 'The Flex token is not valid: sign in to Flex again, then try again.'],
  [403, 'Only the agent who accepted this task, or a supervisor or an admin, can hand it back to the AI.'],
  [404, `The Flex workspace has no task ${TASK_SID}.`],
  [503, 'Could not read the task; try again.'],
])('shows the %i answer to the agent, wraps nothing up, and lets the agent try again', async (status, error) => {
  const failing = status >= 500 ? 'retryable' : 'rejected';
  const { flex } = renderButton({ fetchImpl: answering(status, { status: failing, error }) });
  fireEvent.click(button());
  const alert = await screen.findByRole('alert');
  expect(alert.textContent).toBe(`Return to AI failed (${status}): ${error}`);
  expect(flex.Actions.invokeAction).not.toHaveBeenCalled();
  expect(button().disabled).toBe(false);
});

test("says why nothing was handed back when the function ignores the task, and doesn't wrap up", async () => {
  const reason = "the conversation does not record this task's handoff";
  const { flex } = renderButton({ fetchImpl: answering(200, { status: 'ignored', reason }) });
  fireEvent.click(button());
  expect((await screen.findByRole('alert')).textContent).toBe(`Nothing was handed back: ${reason}.`);
  expect(flex.Actions.invokeAction).not.toHaveBeenCalled();
});

test('says so when the function cannot be reached, or answers something that is not JSON', async () => {
  renderButton({ fetchImpl: jest.fn(async () => Promise.reject(new TypeError('Failed to fetch'))) });
  fireEvent.click(button());
  expect((await screen.findByRole('alert')).textContent).toBe(
    `Could not reach the hand-back at ${BASE_URL}/lifecycle/hand-back: check the network, then try again.`
  );
});

test('a body that is not JSON is shown as no explanation', async () => {
  renderButton({ fetchImpl: jest.fn(async () => ({ status: 502, json: async () => JSON.parse('<html>') })) });
  fireEvent.click(button());
  expect((await screen.findByRole('alert')).textContent).toBe('Return to AI failed (502): no explanation');
});

test("the hand-back is made but Flex's wrap-up fails: the agent is told to wrap up by hand", async () => {
  const flex = flexWith(jest.fn(async () => Promise.reject(new Error('Interactions API: 503'))));
  renderButton({ fetchImpl: answering(200, { status: 'handed_back' }), flex });
  fireEvent.click(button());
  expect((await screen.findByRole('alert')).textContent).toBe(
    'The customer is with the AI again, but Flex could not wrap up the task (Interactions API: 503): wrap it up from the task.'
  );
});

test('falls back to manager.user.token', async () => {
  const { fetchImpl } = renderButton({ manager: managerWith({ token: null, userToken: 'user-token' }), fetchImpl: answering(200, { status: 'handed_back' }) });
  fireEvent.click(button());
  await waitFor(() => expect(fetchImpl).toHaveBeenCalled());
  expect(new URLSearchParams(fetchImpl.mock.calls[0][1].body).get('Token')).toBe('user-token');
});

describe('disabled, with the reason shown', () => {
  test.each([
    [undefined, 'Return to AI is not set up: build the plugin with FLEX_APP_HANDOVER_BASE_URL set'],
    ['', 'Return to AI is not set up: build the plugin with FLEX_APP_HANDOVER_BASE_URL set'],
    ['http://handover.example.com', 'Return to AI is not set up: ui_attributes.handoverBaseUrl must be the https URL'],
    ['not a url', 'Return to AI is not set up: ui_attributes.handoverBaseUrl must be the https URL'],
    ['https://x.twil.io/?token=1', 'Return to AI is not set up: ui_attributes.handoverBaseUrl must be the https URL'],
  ])('base URL %p', (baseUrl, said) => {
    const fetchImpl = jest.fn();
    renderButton({ manager: managerWith({ baseUrl }), fetchImpl });
    expect(button().disabled).toBe(true);
    expect(screen.getByTestId('return-to-ai-note').textContent.startsWith(said)).toBe(true);
    fireEvent.click(button());
    expect(fetchImpl).not.toHaveBeenCalled();
  });

  test('no Flex token', () => {
    renderButton({ manager: managerWith({ token: null }) });
    expect(button().disabled).toBe(true);
    expect(screen.getByTestId('return-to-ai-note').textContent).toBe('Flex has no token for you: sign in to Flex again.');
  });

  test('the build-time variable wins over the Flex configuration, a trailing slash ignored', async () => {
    process.env.FLEX_APP_HANDOVER_BASE_URL = 'http://localhost:3000/';
    try {
      const { fetchImpl } = renderButton({ manager: managerWith({ baseUrl: undefined }), fetchImpl: answering(200, { status: 'handed_back' }) });
      fireEvent.click(button());
      await waitFor(() => expect(fetchImpl).toHaveBeenCalled());
      expect(fetchImpl.mock.calls[0][0]).toBe('http://localhost:3000/lifecycle/hand-back');
    } finally {
      delete process.env.FLEX_APP_HANDOVER_BASE_URL;
    }
  });
});

describe('only on an accepted messaging task the hand-back takes', () => {
  test.each([
    ['the direct path', directTask({ reason: 'r' }), true],
    ["Twilio Agent Connect's path", tacMessagingTask(TAC_HANDOFF), true],
    ["the studio-handover tool's, through the Studio flow", studioTask({ reason: 'r' }), true],
    ["a Studio task naming neither its conversation's service nor an Orchestrator conversation", flexTask({ conversationSid: 'CH1', handoffData: { conversationId: 'CH1', attributes: { reason: 'r' } } }), false],
    ["TAC's path without its Classic conversation", tacMessagingTask(TAC_HANDOFF, { attributes: { handoffData: TAC_HANDOFF } }), false],
    ['a direct task without its conversation service', flexTask({ handoff: { reason: 'r' }, conversationSid: 'CH1' }), false],
    ['a task not yet accepted', directTask({ reason: 'r' }, { status: 'pending' }), false],
    ['a task in wrap-up', directTask({ reason: 'r' }, { status: 'wrapping' }), false],
    ['a call', tacCallTask({ attributes: { reason: 'r' } }, { status: 'accepted' }), false],
    ['a chat the kit did not create', flexTask({ conversationSid: 'CH1' }), false],
    ['attributes that are not JSON', flexTask('{'), false],
    ['no task', undefined, false],
  ])('%s: %p', (_, task, shown) => {
    expect(canReturnToAi(task)).toBe(shown);
    render(<ReturnToAiButton task={task} manager={managerWith()} flex={flexWith()} />);
    expect(screen.queryByRole('button', { name: 'Return to AI' }) !== null).toBe(shown);
  });
});
