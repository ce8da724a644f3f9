import type { AddonMetadata } from './types.js';

/**
 * The add-ons OpenStage ships (GET .../addons-metadata).
 *
 * - `sermantInjector` — on Huawei Cloud it mounts the Sermant Java agent into the pods of a
 *   CCE cluster and connects them to a ServiceComb engine. In OpenStage its install and
 *   redeploy jobs check the agent jar configured in `cas.sermantAgentPath` (a file from a
 *   Sermant release; OpenStage does not download it) and fail with the reason when it is
 *   missing or not a jar; once SUCCEEDED, Java components deployed in the environment are
 *   started with `-javaagent:<that jar>` (AddonService.javaAgentOptions). The agent's own
 *   configuration decides where it registers; components also get PAAS_CSE_SC_ENDPOINT and
 *   PAAS_CSE_CC_ENDPOINT.
 */
export const ADDON_CATALOG: readonly AddonMetadata[] = Object.freeze([
  {
    name: 'sermantInjector',
    latestVersion: '1.0.0',
    needsCse: true,
    description: 'Attaches the Sermant Java agent (cas.sermantAgentPath) to the Java components of the environment',
  },
]);

/** The shipped add-on called `name`, or undefined. */
export function findAddonMetadata(name: string): AddonMetadata | undefined {
  return ADDON_CATALOG.find((a) => a.name === name);
}
