import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Db } from '../core/db/kysely.js';
import type { Logger } from '../core/log.js';
import type { SecretBox } from '../core/secrets.js';

/**
 * Domain types shared by the ServiceStage resources (servicestage.md §1). Each resource
 * folder (environment/, application/, runtime-stack/, config/, addon/) keeps its own types
 * in its types.ts; this file holds what they share.
 */

/** Dependencies of every ServiceStage service, built in server.ts. */
export interface CasDeps {
  db: Db;
  bus: Bus<CasEvents>;
  clock: Clock;
  log: Logger;
  config: Readonly<Config>;
  /** Seals secrets at rest (resource parameters, passwords). */
  secrets: SecretBox;
  /** What components use (usage checks before deletes, config file mounts). */
  components: ComponentUsage;
}

/** A component as other resources see it (config file mounts, usage checks). */
export interface ComponentRef {
  environment_id: string;
  application_id: string;
  component_id: string;
  component_name: string;
}

/**
 * What the component service (the deployment issue) tells the other resources about
 * components, so that an environment, application, runtime stack or config file in use is
 * not deleted. Until components exist, `noComponents` answers "none".
 */
export interface ComponentUsage {
  /** Components deployed in an environment. */
  countInEnvironment(project: string, environmentId: string): Promise<number>;
  /** Components of an application. */
  countInApplication(project: string, applicationId: string): Promise<number>;
  /** Components running on a runtime stack (matched by stack name, type and version). */
  countOnRuntimeStack(project: string, stack: { name: string; type: string; version: string }): Promise<number>;
  /** Components that mount a config file. */
  mountsOfConfig(project: string, configId: string): Promise<ComponentRef[]>;
}

/** The answer while no component exists. */
export const noComponents: ComponentUsage = {
  countInEnvironment: async () => 0,
  countInApplication: async () => 0,
  countOnRuntimeStack: async () => 0,
  mountsOfConfig: async () => [],
};

/**
 * Bus events of the area, `cas.<resource>.<past-verb>` (STYLE.md §2), published after commit.
 * Payloads carry the project and the resource id.
 */
export type CasEvents = {
  'cas.environment.deleted': { project: string; environmentId: string };
  'cas.application.deleted': { project: string; applicationId: string };
  'cas.config.changed': { project: string; configId: string; version: number };
  /** An application's name or fields changed (the routes of its components follow). */
  'cas.application.updated': { project: string; applicationId: string };
  /** A component was created, its body replaced (upgrade, rollback, scale) or it was removed. */
  'cas.component.changed': { project: string; componentId: string };
};
