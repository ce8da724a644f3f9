import type { ProbeResult } from '../../core/process/probe.js';
import type { ExitInfo } from '../../core/process/supervisor.js';
import type { Release } from '../runtime.js';

/**
 * The part of a host runtime (process, container) that differs between them: how ONE replica
 * is started, watched, stopped and adopted. Everything else a host replica needs — its
 * record, port, variables, config files, readiness and liveness, batches — is shared
 * (HostReplicas, HostRuntime). A driver restarts a replica that ends without being asked
 * (crash) after a back-off, and reports every change through `onChange`.
 */
export interface ReplicaDriver {
  /** Where config files are written for a replica whose own directory is `home`, when the replica reads them through `CAS_MOUNT_ROOT`; undefined when the driver mounts each file at its real path. */
  mountRoot(home: string): string | undefined;

  /**
   * Starts a replica. @throws Error naming what could not be started (command or image not
   * found, the sandbox refused)
   */
  start(spec: HostReplicaSpec): Promise<DriverState>;

  /**
   * Takes over a replica after an OpenStage restart: watches it when what `handle` names is
   * still running, else starts it anew (`adopted` false).
   */
  adopt(spec: HostReplicaSpec, handle: ReplicaHandle): Promise<DriverState>;

  /**
   * Stops a replica: no more restarts; SIGTERM (or the runtime's equivalent), then SIGKILL after
   * `spec.terminationGraceMs`; resolves when nothing of it is left.
   * @returns how it ended (signal 'SIGKILL' when the grace ran out); undefined when none ran
   */
  stop(instanceId: string): Promise<ExitInfo | undefined>;

  /**
   * Kills a replica this driver does not supervise, left on this machine by another server
   * (it died or lost its lease): the process `handle` names when it is still that one, or the
   * container of that name. Nothing is restarted; what is gone already is no error.
   */
  killLeftover(instanceId: string, handle: ReplicaHandle): Promise<void>;

  /** What the driver knows of a replica now, or undefined when it is not supervised here. */
  status(instanceId: string): DriverState | undefined;

  /** Runs a command probe inside the replica's confinement (its files, user, environment). Never throws. */
  exec(instanceId: string, command: string[], timeoutMs: number): Promise<ProbeResult>;

  /** The last `lines` lines of a replica's output ([] when there is none). */
  logs(instanceId: string, lines: number): Promise<string[]>;

  /** Lets go of every replica without stopping it (OpenStage stopping; the next start adopts them). */
  detachAll(): void;

  /** Stops every replica (tests, `deploy.stopOnShutdown`). */
  stopAll(): Promise<void>;
}

/** Everything a driver needs to run one replica. */
export interface HostReplicaSpec {
  instanceId: string;
  project: string;
  componentId: string;
  version: string;
  release: Release;
  /** The replica's port on the host (`PORT`); replicas listen on the host's network. */
  port: number;
  /** The complete environment of the replica (nothing else is inherited). */
  env: Record<string, string>;
  /** Config files, rendered: the driver writes them under mountRoot() or mounts each at `path`. */
  files: { path: string; content: string }[];
  /** The replica's own directory on the host (`<data>/deploy/replicas/<instanceId>`), created and writable. */
  home: string;
  /** Where stdout and stderr go when the driver keeps a log file. */
  logFile: string;
  /** Wait between SIGTERM and SIGKILL, milliseconds. */
  terminationGraceMs: number;
}

/** What a driver records to find a replica again after a restart. */
export interface ReplicaHandle {
  pid?: number;
  /** Process start time (ticks since boot): guards against pid reuse. */
  startTicks?: number;
}

/** A replica's state as a driver sees it. */
export interface DriverState {
  instanceId: string;
  /** running: up; backoff: ended, restart scheduled; stopped: stopped on request. */
  state: 'running' | 'backoff' | 'stopped';
  pid?: number;
  startTicks?: number;
  /** Epoch milliseconds when the current run started. */
  startedAtMs?: number;
  /** Crash restarts so far. */
  restarts: number;
  lastExit?: ExitInfo;
  /** Found running after an OpenStage restart (not started by this process). */
  adopted: boolean;
}
