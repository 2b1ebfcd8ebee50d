// Where the agent's Return to AI goes: the kit's Functions service, whose domain the plugin is told either when it is
// built (FLEX_APP_HANDOVER_BASE_URL, in the environment or plugin-ai-handover/.env, as Flex plugins read FLEX_APP_*
// variables) or at run time by the Flex configuration's ui_attributes.handoverBaseUrl, which `handover plugin deploy`
// sets (the build's wins).
import { HAND_BACK_PATH, HANDOVER_BASE_URL_UI_ATTRIBUTE } from '../../../generated/contract';

export const BUILD_VARIABLE = 'FLEX_APP_HANDOVER_BASE_URL';
export const UI_ATTRIBUTE = HANDOVER_BASE_URL_UI_ATTRIBUTE;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function configuredBaseUrl(manager) {
  const built = process.env.FLEX_APP_HANDOVER_BASE_URL;
  if (typeof built === 'string' && built.trim() !== '') return { value: built.trim(), from: BUILD_VARIABLE };
  const uiAttributes = manager && manager.serviceConfiguration && manager.serviceConfiguration.ui_attributes;
  const configured = uiAttributes && uiAttributes[UI_ATTRIBUTE];
  if (typeof configured === 'string' && configured.trim() !== '') {
    return { value: configured.trim(), from: `ui_attributes.${UI_ATTRIBUTE}` };
  }
  return null;
}

/**
 * The hand-back function's URL: `{ ok, url }`, or `{ ok: false, problem }` saying what to set, where it is not set
 * up or not an https URL (http only on the local machine, for `twilio-run`).
 */
export function handBackUrlOf(manager) {
  const configured = configuredBaseUrl(manager);
  if (!configured) {
    return {
      ok: false,
      problem:
        `Return to AI is not set up: build the plugin with ${BUILD_VARIABLE} set to the Functions service's ` +
        `domain (https://…twil.io), or set ${UI_ATTRIBUTE} in the Flex configuration's ui_attributes.`,
    };
  }
  let url;
  try {
    url = new URL(configured.value);
  } catch {
    url = null;
  }
  const allowed = url && (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)));
  if (!allowed || url.search || url.hash) {
    return {
      ok: false,
      problem: `Return to AI is not set up: ${configured.from} must be the https URL of the Functions service's domain.`,
    };
  }
  return { ok: true, url: `${url.origin}${url.pathname.replace(/\/+$/, '')}${HAND_BACK_PATH}` };
}
