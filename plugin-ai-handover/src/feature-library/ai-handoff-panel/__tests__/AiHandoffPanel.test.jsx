import React from 'react';
import { act, fireEvent, render, screen, within } from '@testing-library/react';

import AiHandoffPanel, { SUMMARY_PREVIEW_LENGTH } from '../components/AiHandoffPanel';
import { MAX_FIELD_LENGTH } from '../helpers/handoffOfTask';
import { MAX_REASON_LENGTH, MAX_SUMMARY_LENGTH } from '../../../generated/contract';
import { contract, directTask, studioTask, tacCallTask, voiceTask, flexTask, REQUESTED_AT } from '../../../test-support/kitTasks';

const HOSTILE = '<img src=x onerror="window.hacked=1"><script>window.hacked=2</script><b>bold</b> & "quotes"';

function rowValue(label) {
  const term = screen.getByText(label, { selector: 'dt span' });
  return term.closest('div').querySelector('dd').textContent;
}

beforeEach(() => {
  jest.useFakeTimers();
  jest.setSystemTime(new Date(Date.parse(REQUESTED_AT) + 7 * 60 * 1000));
});

afterEach(() => {
  jest.useRealTimers();
  delete window.hacked;
});

describe('the direct path (flex-handover)', () => {
  test('shows the reason, the summary, when the AI handed off, the wait and the context', () => {
    const task = directTask({ reason: 'wants a refund', summary: 'Charged twice for order 1234.' }, { customerName: 'Ada' });
    render(<AiHandoffPanel task={task} />);
    const panel = screen.getByRole('region', { name: 'From the AI' });
    expect(within(panel).getByTestId('ai-handoff-reason').textContent).toBe('wants a refund');
    expect(within(panel).getByTestId('ai-handoff-summary').textContent).toBe('Charged twice for order 1234.');
    expect(panel.querySelector('time').getAttribute('dateTime')).toBe(REQUESTED_AT);
    expect(within(panel).getByTestId('ai-handoff-waited').textContent).toBe('7 min');
    expect(rowValue('Channel')).toBe('sms');
    expect(rowValue('Customer')).toBe('Ada');
    expect(rowValue('Customer address')).toBe('+15551234567');
    expect(rowValue('Handed off through')).toBe('/tools/flex-handover');
  });

  test('counts the wait on as time passes', () => {
    render(<AiHandoffPanel task={directTask({ reason: 'refund' })} />);
    expect(screen.getByTestId('ai-handoff-waited').textContent).toBe('7 min');
    act(() => {
      jest.advanceTimersByTime(60 * 60 * 1000);
    });
    expect(screen.getByTestId('ai-handoff-waited').textContent).toBe('1 h 07 min');
  });

  test('says so when the AI gave no reason and no summary (the tool accepts neither)', () => {
    render(<AiHandoffPanel task={directTask({})} />);
    expect(screen.getByTestId('ai-handoff-reason').textContent).toBe('The AI gave no reason.');
    expect(screen.getByText('The AI gave no summary.')).toBeTruthy();
  });

  test('renders markup and script in the summary and reason as text, never as elements', () => {
    const { container } = render(<AiHandoffPanel task={directTask({ reason: HOSTILE, summary: HOSTILE })} />);
    expect(screen.getByTestId('ai-handoff-summary').textContent).toBe(HOSTILE);
    expect(screen.getByTestId('ai-handoff-reason').textContent).toBe(HOSTILE);
    expect(container.querySelectorAll('img, script, b')).toHaveLength(0);
    expect(window.hacked).toBeUndefined();
  });

  test('cuts a long summary with an expander that shows the whole of it', () => {
    const summary = `${'The customer explained at length. '.repeat(200)}END`;
    const task = directTask({ summary });
    const kept = Array.from(task.attributes.handoff.summary);
    expect(kept).toHaveLength(MAX_SUMMARY_LENGTH); // the tool cut it to the contract's length
    render(<AiHandoffPanel task={task} />);
    const shown = screen.getByTestId('ai-handoff-summary');
    expect(Array.from(shown.textContent)).toHaveLength(SUMMARY_PREVIEW_LENGTH + 1);
    expect(shown.textContent.endsWith('…')).toBe(true);
    const expander = screen.getByRole('button', { name: `Show the whole summary (${MAX_SUMMARY_LENGTH} characters)` });
    expect(expander.getAttribute('aria-expanded')).toBe('false');
    fireEvent.click(expander);
    expect(shown.textContent).toBe(kept.join('').trim());
    fireEvent.click(screen.getByRole('button', { name: 'Show less' }));
    expect(Array.from(shown.textContent)).toHaveLength(SUMMARY_PREVIEW_LENGTH + 1);
  });

  test('a short summary has no expander', () => {
    render(<AiHandoffPanel task={directTask({ summary: 'x'.repeat(SUMMARY_PREVIEW_LENGTH) })} />);
    expect(screen.queryByRole('button')).toBeNull();
  });

  test('cuts oversized texts a task carries (written by anything but the kit) to the contract', () => {
    const task = directTask({ reason: 'r' });
    task.attributes.handoff = { ...task.attributes.handoff, reason: '😀'.repeat(MAX_REASON_LENGTH + 50), summary: 's'.repeat(10 * MAX_SUMMARY_LENGTH) };
    render(<AiHandoffPanel task={task} />);
    expect(Array.from(screen.getByTestId('ai-handoff-reason').textContent)).toEqual(Array(MAX_REASON_LENGTH).fill('😀'));
    expect(screen.getByRole('button', { name: `Show the whole summary (${MAX_SUMMARY_LENGTH} characters)` })).toBeTruthy();
  });

  test('shows context fields the handoff may carry later (a voice call), cut to their length', () => {
    const task = directTask({ reason: 'r' });
    task.attributes.handoff = { ...task.attributes.handoff, intent: 'refund', language: 'fr-FR', notes: 'n'.repeat(1000) };
    render(<AiHandoffPanel task={task} />);
    expect(rowValue('intent')).toBe('refund');
    expect(rowValue('language')).toBe('fr-FR');
    expect(rowValue('notes')).toHaveLength(MAX_FIELD_LENGTH);
  });
});

describe('the direct voice path (connect-action)', () => {
  test("shows the call's attributes the voice path writes, each once, beside the AI's reason and summary", () => {
    const task = voiceTask({ reason: 'wants a person', summary: 'Called about order 12.' });
    render(<AiHandoffPanel task={task} />);
    expect(screen.getByTestId('ai-handoff-reason').textContent).toBe('wants a person');
    expect(screen.getByTestId('ai-handoff-summary').textContent).toBe('Called about order 12.');
    expect(rowValue('Channel')).toBe('voice');
    expect(rowValue('Customer')).toBe('+15551230000');
    expect(rowValue('Call')).toBe(task.attributes.callSid);
    expect(rowValue('Number called')).toBe('+15005550006');
    expect(rowValue('Handed off through')).toBe('/voice/connect-action');
    // The caller's address is their name here: not said twice, and no row for what is not there.
    expect(screen.queryByText('Customer address', { selector: 'dt span' })).toBeNull();
    expect(screen.queryByText('null')).toBeNull();
    // Every attribute of the contract's voice list has its row, or is shown by Flex or in the rows above.
    const labels = screen.getAllByText((_, element) => element.tagName === 'SPAN' && element.closest('dt') !== null);
    const shown = labels.map((element) => element.textContent);
    expect(shown.filter((label, index) => shown.indexOf(label) !== index)).toEqual([]);
    expect(contract.TASK_ATTRIBUTES.voice.filter((name) => task.attributes[name] === undefined)).toEqual([]);
  });
});

describe('the Studio path (studio-handover and Twilio Agent Connect)', () => {
  test("reads the studio-handover tool's reason, summary and time from TAC's HandoffData", () => {
    render(<AiHandoffPanel task={studioTask({ reason: 'billing', summary: 'Asked twice for an invoice.' })} />);
    expect(screen.getByTestId('ai-handoff-reason').textContent).toBe('billing');
    expect(screen.getByTestId('ai-handoff-summary').textContent).toBe('Asked twice for an invoice.');
    expect(screen.getByTestId('ai-handoff-waited').textContent).toBe('7 min');
    expect(rowValue('Handed off through')).toBe('/tools/studio-handover');
    expect(rowValue('department')).toBe('support'); // the deployment's static attributes, in HandoffData
  });

  test("shows TAC's own handoff data on a call, timed from the task", () => {
    const handoffData = {
      conversationId: 'conv_conversation_0000000000000000000000000c',
      storeId: 'mem_store_0000000000000000000000000b',
      profileId: 'mem_profile_0000000000000000000000000a',
      attributes: { department: 'billing', reason: 'wants a refund' },
    };
    render(<AiHandoffPanel task={tacCallTask(handoffData)} />);
    expect(screen.getByTestId('ai-handoff-reason').textContent).toBe('wants a refund');
    expect(screen.getByText('The AI gave no summary.')).toBeTruthy();
    expect(rowValue('Channel')).toBe('voice');
    expect(rowValue('Call')).toBe(`CA${'1'.repeat(32)}`);
    expect(rowValue('Agent Connect profile')).toBe(handoffData.profileId);
    expect(rowValue('Agent Connect conversation')).toBe(handoffData.conversationId);
    expect(rowValue('department')).toBe('billing');
    expect(screen.getByTestId('ai-handoff-waited').textContent).toBe('7 min');
  });

  test('reads HandoffData that arrived as JSON text', () => {
    render(<AiHandoffPanel task={tacCallTask(JSON.stringify({ attributes: { reason: 'as text' } }))} />);
    expect(screen.getByTestId('ai-handoff-reason').textContent).toBe('as text');
  });
});

describe('tasks without handoff data, and malformed ones', () => {
  test.each([
    ['a task with no attributes', flexTask(undefined)],
    ['a task of another kind', flexTask({ from: 'Ada', conversationSid: 'CH1' })],
    ['attributes that are not JSON', flexTask('{not json')],
    ['attributes that are an array', flexTask([1, 2])],
    ['a handoff that is a string', flexTask({ handoff: 'reason: refund' })],
    ['a handoff that is null', flexTask({ handoff: null, handoffData: null })],
    ['a handoff that is an array', flexTask({ handoff: ['refund'] })],
    ['no task at all', undefined],
  ])('%s renders nothing', (_, task) => {
    const { container } = render(<AiHandoffPanel task={task} />);
    expect(container.innerHTML).toBe('');
  });

  test('values of the wrong type render as nothing, never break the panel', () => {
    const task = flexTask({
      channelType: { nested: true },
      customerName: 42,
      handoff: { reason: { text: 'x' }, summary: ['a', 'b'], requestedAt: 'yesterday', source: null, extra: { deep: [1, { x: 2 }] } },
    });
    task.dateCreated = 'not a date';
    render(<AiHandoffPanel task={task} />);
    expect(screen.getByTestId('ai-handoff-reason').textContent).toBe('The AI gave no reason.');
    expect(screen.getByText('The AI gave no summary.')).toBeTruthy();
    expect(screen.queryByTestId('ai-handoff-waited')).toBeNull();
    expect(rowValue('Customer')).toBe('42');
    expect(rowValue('Channel')).toBe('{"nested":true}');
    expect(rowValue('extra')).toBe('{"deep":[1,{"x":2}]}');
  });

  test('a task whose attributes throw when read renders nothing and leaves the page alone', () => {
    const task = {};
    Object.defineProperty(task, 'attributes', {
      get() {
        throw new Error('broken');
      },
    });
    jest.spyOn(console, 'error').mockImplementation(() => {});
    const { container } = render(
      <div>
        <AiHandoffPanel task={task} />
        <p>Flex's own view</p>
      </div>
    );
    expect(container.textContent).toBe("Flex's own view");
    console.error.mockRestore();
  });
});
