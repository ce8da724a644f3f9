import type { AddonMetadata } from './types.js';

/**
 * The add-ons OpenStage ships (GET .../addons-metadata).
 *
 * - `sermantInjector` — on Huawei Cloud it mounts the Sermant Java agent into the pods of a
 *   CCE cluster and connects them to a ServiceComb engine (CSE). In OpenStage, installing it
 *   records that the environment wants Java components attached to OpenStage's own
 *   registry and config center through Sermant; the record (version, cce_id, cse_id, last
 *   job and status) is all that exists so far — no agent is downloaded or injected until
 *   the deployment engine reads this record. The install/redeploy/delete jobs therefore
 *   finish at once with SUCCEEDED.
 */
export const ADDON_CATALOG: readonly AddonMetadata[] = Object.freeze([
  {
    name: 'sermantInjector',
    latestVersion: '1.0.0',
    needsCse: true,
    description: 'Attaches the Sermant Java agent to Java components of the environment, connected to the OpenStage registry and config center',
  },
]);

/** The shipped add-on called `name`, or undefined. */
export function findAddonMetadata(name: string): AddonMetadata | undefined {
  return ADDON_CATALOG.find((a) => a.name === name);
}
