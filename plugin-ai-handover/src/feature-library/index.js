// The plugin's features, each in its own folder with its components, its Flex hooks, its helpers and a README.
import * as aiHandoffPanel from './ai-handoff-panel';
import * as returnToAi from './return-to-ai';

export const features = [aiHandoffPanel, returnToAi];
