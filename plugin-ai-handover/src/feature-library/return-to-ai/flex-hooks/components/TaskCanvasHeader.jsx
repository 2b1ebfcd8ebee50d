import React from 'react';

import ReturnToAiButton from '../../components/ReturnToAiButton';

/** The button in the task's header, beside Flex's own task actions; Flex hands its children the task. */
export function addReturnToAiButton(flex, manager) {
  flex.TaskCanvasHeader.Content.add(<ReturnToAiButton key="return-to-ai" flex={flex} manager={manager} />, { sortOrder: 1 });
}
