import type { ReplicaWatcher, RouteTargets } from '../deploy/types.js';

/**
 * Stable routes to components (src/routes/README.md). Times are epoch milliseconds.
 */

/** An `external_accesses` entry as the component body gives it (servicestage.md §4.1). */
export interface ExternalAccess {
  protocol?: string;
  address?: string;
  forward_port?: number;
}

/** What routes need to know of a component: its names and its external accesses. */
export interface RoutableComponent {
  project: string;
  componentId: string;
  name: string;
  applicationId: string;
  applicationName: string;
  environmentName: string;
  createdAtMs: number;
  externalAccesses: ExternalAccess[];
}

/**
 * Feed changes of the routes (several servers): a component's or application's names changed
 * on some server (its local `cas.component.changed` / `cas.application.updated`), passed on
 * to every server so that each route table follows them.
 */
export interface RouteEvents {
  'routes.component.changed': { project: string; componentId: string };
  'routes.application.updated': { project: string; applicationId: string };
  [key: string]: unknown;
}

/** Where components and their names come from (ComponentService, over the database). */
export interface ComponentDirectory {
  /** Every component of every project that is not being deleted. */
  list(): Promise<RoutableComponent[]>;
  /** One component, or undefined when it is gone or being deleted. */
  find(project: string, componentId: string): Promise<RoutableComponent | undefined>;
}

/** Where replicas come from (DeployService). */
export interface ReplicaSource {
  watchReplicas(watcher: ReplicaWatcher): void;
  routeTargets(project: string, componentId: string): RouteTargets | undefined;
  runtime(project: string, componentId: string): { status: string; replica: number; availableReplica: number } | undefined;
}

/** One route of a component as its GET shows it (`status.routes`, OpenStage's addition). */
export type RouteView =
  /** A host name on OpenStage's HTTP port; `url` is what a client opens. */
  | { type: 'http'; host: string; url: string; readyReplicas: number }
  /** A TCP port of OpenStage's host; `listening` false when the port could not be bound. */
  | { type: 'tcp'; address: string; listening: boolean; readyReplicas: number }
  /** A NodePort Service of the cluster a kubernetes component runs on (not proxied by OpenStage). */
  | { type: 'nodeport'; service: string; namespace: string; port: number; nodePort: number }
  /** An Ingress rule of that cluster. */
  | { type: 'ingress'; host: string; path: string };
