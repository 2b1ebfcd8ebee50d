import React from 'react';

import AiHandoffPanel from '../../components/AiHandoffPanel';

/** The panel first on the task's Info panel (messaging and voice alike); Flex hands its children the task. */
export function addAiHandoffPanel(flex) {
  flex.TaskInfoPanel.Content.add(<AiHandoffPanel key="ai-handoff-panel" />, { sortOrder: -1 });
}
