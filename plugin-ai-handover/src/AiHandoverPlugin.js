import { FlexPlugin } from '@twilio/flex-plugin';

import { features } from './feature-library';

const PLUGIN_NAME = 'AiHandoverPlugin';

/**
 * The handover kit's plugin: each feature of src/feature-library adds its components and actions to Flex. A feature
 * that fails to register is logged and skipped, so that one broken feature never keeps Flex from starting.
 */
export default class AiHandoverPlugin extends FlexPlugin {
  constructor() {
    super(PLUGIN_NAME);
  }

  /**
   * @param flex { typeof import('@twilio/flex-ui') }
   * @param manager { import('@twilio/flex-ui').Manager }
   */
  async init(flex, manager) {
    for (const feature of features) {
      try {
        feature.register(flex, manager);
      } catch (error) {
        console.error(`${PLUGIN_NAME}: the ${feature.name} feature could not be registered:`, error);
      }
    }
  }
}
