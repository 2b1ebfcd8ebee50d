// The bundle's entry point: Flex loads the bundle and the plugin registers itself with Twilio.Flex.Plugins.
import * as FlexPlugin from '@twilio/flex-plugin';

import AiHandoverPlugin from './AiHandoverPlugin';

FlexPlugin.loadPlugin(AiHandoverPlugin);
