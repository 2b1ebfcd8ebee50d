import { addAiHandoffPanel } from './flex-hooks/components/TaskInfoPanel';

export const name = 'ai-handoff-panel';

export function register(flex) {
  addAiHandoffPanel(flex);
}
