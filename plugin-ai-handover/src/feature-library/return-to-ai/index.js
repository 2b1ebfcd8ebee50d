import { addReturnToAiButton } from './flex-hooks/components/TaskCanvasHeader';

export const name = 'return-to-ai';

export function register(flex, manager) {
  addReturnToAiButton(flex, manager);
}
