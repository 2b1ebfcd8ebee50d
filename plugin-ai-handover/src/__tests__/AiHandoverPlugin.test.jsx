import AiHandoverPlugin from '../AiHandoverPlugin';
import * as returnToAi from '../feature-library/return-to-ai';
import AiHandoffPanel from '../feature-library/ai-handoff-panel/components/AiHandoffPanel';
import ReturnToAiButton from '../feature-library/return-to-ai/components/ReturnToAiButton';

function flexStandIn() {
  const content = () => ({ add: jest.fn() });
  return { TaskInfoPanel: { Content: content() }, TaskCanvasHeader: { Content: content() }, Actions: {} };
}

beforeEach(() => jest.spyOn(console, 'log').mockImplementation(() => {}));
afterEach(() => jest.restoreAllMocks());

test('adds the panel first on the Info panel and Return to AI to the task header, given Flex and the manager', async () => {
  const flex = flexStandIn();
  const manager = { serviceConfiguration: {} };
  await new AiHandoverPlugin().init(flex, manager);
  const [[panel, panelOptions]] = flex.TaskInfoPanel.Content.add.mock.calls;
  expect(panelOptions).toEqual({ sortOrder: -1 });
  expect([panel.type, panel.key]).toEqual([AiHandoffPanel, 'ai-handoff-panel']);
  const [[button]] = flex.TaskCanvasHeader.Content.add.mock.calls;
  expect([button.type, button.key, button.props.flex, button.props.manager]).toEqual([ReturnToAiButton, 'return-to-ai', flex, manager]);
});

test('a feature that fails to register is logged, and the others still register', async () => {
  const flex = flexStandIn();
  flex.TaskInfoPanel.Content.add.mockImplementation(() => {
    throw new Error('no TaskInfoPanel here');
  });
  const logged = jest.spyOn(console, 'error').mockImplementation(() => {});
  await new AiHandoverPlugin().init(flex, {});
  expect(logged).toHaveBeenCalledWith('AiHandoverPlugin: the ai-handoff-panel feature could not be registered:', expect.any(Error));
  expect(flex.TaskCanvasHeader.Content.add).toHaveBeenCalledTimes(1);
  expect(returnToAi.name).toBe('return-to-ai');
});
