import { accessSync, constants, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db/kysely.js';
import type { Logger } from '../../core/log.js';
import { BuildError } from '../build/run.js';
import { HostReplicas } from '../host/replica-service.js';
import { HostRuntime, type HostReplicaSettings } from '../host/runtime.js';
import type { Artifact, BuildStep, ContainerArtifact, Release, ReleaseLookup } from '../runtime.js';
import type { ComponentPlan } from '../types.js';
import { ContainerDriver, LABEL, type UserNamespace } from './driver.js';
import { Podman, PodmanError } from './podman.js';
import { parseImageReference, repositoryComponent, versionTag } from './reference.js';

/** Dependencies of the container runtime, built by DeployService. */
export interface ContainerRuntimeDeps extends HostReplicaSettings {
  db: Db;
  clock: Clock;
  log: Logger;
  podman: Podman;
  /** `<data>/deploy`: replica homes are `<root>/replicas/<instanceId>`. */
  root: string;
  /**
   * Fetches a `code` or `package` source of a Docker-stack component into the workspace
   * (the same confined fetch as the process runtime's).
   */
  fetchSource: (plan: ComponentPlan, step: BuildStep) => Promise<{ revision: string }>;
  /** The user namespace of a project's replicas (undefined: none). */
  usernsOf: (project: string) => Promise<UserNamespace | undefined>;
  renderFile: (content: string, variables: Record<string, string>) => string;
  /** Memory limit of each RUN step of a Dockerfile build, bytes (0 = none). */
  buildMemoryBytes: number;
  /** `--pids-limit` of each replica (0: podman's default). */
  pidsLimit: number;
}

/** The container settings of `deploy` (src/core/config.ts). */
export interface ContainerSettings {
  podmanPath: string;
  containerDir: string;
  containerRunDir: string;
  containerInsecureRegistries: string[];
  containerSearchRegistries: string[];
  containerUidBase: number;
}

/**
 * OpenStage's podman, with `path` as PATH: its configuration is written under `containerDir`
 * (default `<dataDir>/containers`) before its first call, so a server that never runs a
 * container never touches podman. A setting podman cannot use (a run directory too long) fails
 * that first call, naming the setting.
 */
export function createPodman(settings: ContainerSettings, dataDir: string, path: string): Podman {
  return new Podman({
    command: settings.podmanPath,
    setup: {
      dir: settings.containerDir || join(dataDir, 'containers'),
      ...(settings.containerRunDir ? { runDir: settings.containerRunDir } : {}),
      insecureRegistries: settings.containerInsecureRegistries,
      searchRegistries: settings.containerSearchRegistries,
    },
    path,
  });
}

/** The path of executable `name` in `path` (a PATH value), or undefined when there is none. */
export function findExecutable(name: string, path: string): string | undefined {
  if (name.includes('/')) return existsSync(name) ? name : undefined;
  for (const dir of path.split(':').filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Host ids a project's containers map their 65536 uids and gids to. */
export const USERNS_SIZE = 65536;

/**
 * The user namespace of the project with allocation number `index` (0, 1, … — e.g. its
 * sandbox uid minus `deploy.sandboxUidBase`): a range of its own from `uidBase`, so that the
 * containers of two projects never share a host uid, and none is the host's root.
 */
export function projectUserns(uidBase: number, index: number): UserNamespace {
  const hostId = uidBase + Math.max(0, index) * USERNS_SIZE;
  // uid 2^32-1 is the kernel's "no uid": the range must end below it.
  if (hostId + USERNS_SIZE > 0xffffffff) throw new Error(`no user namespace range left for project number ${index} above deploy.containerUidBase ${uidBase}`);
  return { hostId, size: USERNS_SIZE };
}

/** The workspace file in which a fetch leaves the pulled image for the build. */
const PULLED = '.openstage-image.json';

/**
 * The local name of a component version's image: `localhost/<app>/<component>:<version>`
 * (names lowered and cleaned to what a repository may hold).
 */
export function localImageName(plan: Pick<ComponentPlan, 'applicationName' | 'componentName' | 'version'>): string {
  return `localhost/${repositoryComponent(plan.applicationName)}/${repositoryComponent(plan.componentName)}:${versionTag(plan.version)}`;
}

/**
 * The container runtime (DESIGN.md "Deployments"): the `Docker` runtime stack and
 * `source.kind: image` components, run as podman containers on this host.
 *
 * - fetch: an image source is pulled (with the component's registry credentials, if any);
 *   a code or package source is fetched like the process runtime's.
 * - build: a pulled image is named `localhost/<app>/<component>:<version>` (the reference it
 *   was pulled by is dropped, so that only component versions hold it); a Dockerfile
 *   (`build.parameters.dockerfile_path`, default `Dockerfile`) is built with podman into that
 *   name. The artifact is the image: its name and id (replicas run the id, so a moved tag never
 *   changes what a rollback runs).
 * - replicas: ContainerDriver (one container per replica) under the shared HostReplicas.
 */
export class ContainerRuntime extends HostRuntime {
  readonly kind = 'container' as const;
  readonly replicaSet: HostReplicas;
  private readonly driver: ContainerDriver;

  constructor(private readonly deps: ContainerRuntimeDeps) {
    super(deps.readyTimeoutMs);
    let replicaSet: HostReplicas | undefined;
    this.driver = new ContainerDriver({
      podman: deps.podman,
      clock: deps.clock,
      log: deps.log,
      usernsOf: deps.usernsOf,
      pidsLimit: deps.pidsLimit,
      backoff: { initialMs: 1000, maxMs: 60_000, resetAfterMs: 60_000 },
      reconcileMs: Math.max(deps.monitorMs, 30_000),
      onChange: (state) => replicaSet?.changed(state),
    });
    replicaSet = new HostReplicas({
      db: deps.db,
      clock: deps.clock,
      log: deps.log,
      root: deps.root,
      driver: this.driver,
      kind: 'container',
      renderFile: deps.renderFile,
      settleMs: deps.settleMs,
      monitorMs: deps.monitorMs,
      portRange: deps.portRange,
      readinessOf: (release: Release) => release.plan.readinessProbe,
      // A container has its image's environment (PATH…): nothing of the host's is added.
      baseEnv: () => ({}),
      ...(deps.onChange ? { onChange: deps.onChange } : {}),
      ...(deps.hooks ? { replicaEnded: deps.hooks.replicaEnded } : {}),
      ...(deps.hooks?.serverId ? { serverId: deps.hooks.serverId } : {}),
      ...(deps.hooks?.mayRun ? { mayRun: deps.hooks.mayRun } : {}),
      ...(deps.hooks?.viewWritten ? { viewWritten: deps.hooks.viewWritten } : {}),
    });
    this.replicaSet = replicaSet;
  }

  /**
   * Whether podman runs here (checked at start: the server logs the reason and refuses
   * Docker-stack and image components when it does not).
   * @returns podman's version, or the reason with the install command
   */
  async available(): Promise<{ ok: true; version: string } | { ok: false; reason: string }> {
    try {
      return { ok: true, version: await this.deps.podman.version() };
    } catch (err) {
      return { ok: false, reason: err instanceof PodmanError && err.kind === 'missing-podman' ? err.message : `podman does not work: ${(err as Error).message}` };
    }
  }

  /**
   * An image source is pulled (`source.url`, with `plan.credentials` for its registry) every
   * time, as Kubernetes' AlwaysPullImages does: the registry checks this project's credentials
   * even when the layers are already here (they are not downloaded again). Code and package
   * sources are fetched into the workspace.
   * @returns the image reference pinned to its digest, or the fetched revision
   * @throws BuildError naming the reference and podman's reason (unauthorized, manifest unknown…)
   */
  async fetch(plan: ComponentPlan, step: BuildStep): Promise<{ revision: string }> {
    if (plan.source.kind !== 'image') return this.deps.fetchSource(plan, step);
    const reference = plan.source.url ?? '';
    const ref = parseImageReference(reference);
    if (!ref) throw new BuildError(`source.url '${reference}' is not an image reference ([registry/]repository[:tag][@digest])`);
    // `localhost/…` names images of this host's own store (other components' builds): never a
    // source, or any project could run another's image without its credentials.
    if (ref.registry === 'localhost') throw new BuildError(`source.url '${reference}' names this host's local image store; give a registry (host[:port]/repository:tag)`);
    step.ctx.log(`pulling ${reference}${plan.credentials ? ` as ${plan.credentials.username}` : ''}`);
    let id: string;
    let digest: string;
    try {
      ({ id, digest } = await this.deps.podman.pull({ reference, ...(plan.credentials ? { credentials: plan.credentials } : {}), signal: step.ctx.signal, logFile: step.buildLog }));
    } catch (err) {
      if (err instanceof PodmanError) throw new BuildError(`cannot pull ${reference}: ${err.message}`);
      throw err;
    }
    writeFileSync(join(step.workspace, PULLED), JSON.stringify({ reference, id }), { mode: 0o600 });
    const revision = digest ? `${reference.replace(/@sha256:[a-f0-9]{64}$/, '')}@${digest}` : reference;
    step.ctx.log(`pulled ${revision} (image ${id.slice(0, 12)})`);
    return { revision };
  }

  /**
   * Names the pulled image, or builds the Dockerfile, as `localhost/<app>/<component>:<version>`.
   * The workspace is removed afterwards: the image is the artifact.
   * @throws BuildError with podman's reason and the build log's last lines
   */
  async build(plan: ComponentPlan, step: BuildStep): Promise<Artifact> {
    const name = localImageName(plan);
    let imageId: string;
    try {
      if (plan.source.kind === 'image') {
        const pulled = JSON.parse(readFileSync(join(step.workspace, PULLED), 'utf8')) as { reference: string; id: string };
        await this.deps.podman.tag(pulled.id, name);
        // Only component versions name the image from now on: deleting them frees it.
        const ref = parseImageReference(pulled.reference);
        if (ref && !pulled.reference.includes('@') && `${ref.registry}/${ref.repository}:${ref.tag ?? 'latest'}` !== name) {
          await this.deps.podman.removeImage(`${ref.registry}/${ref.repository}:${ref.tag ?? 'latest'}`).catch(() => undefined);
        }
        imageId = pulled.id;
      } else {
        const dockerfile = plan.dockerfilePath || 'Dockerfile';
        step.ctx.log(`building ${name} from ${dockerfile}`);
        imageId = await this.deps.podman.build({
          contextDir: step.workspace,
          dockerfile,
          tag: name,
          logFile: step.buildLog,
          signal: step.ctx.signal,
          labels: { [LABEL.project]: plan.project, [LABEL.component]: plan.componentId, [LABEL.version]: plan.version },
          ...(this.deps.buildMemoryBytes ? { memoryBytes: this.deps.buildMemoryBytes } : {}),
        });
      }
    } catch (err) {
      if (err instanceof PodmanError) throw new BuildError(err.message);
      throw err;
    }
    rmSync(step.workspace, { recursive: true, force: true });
    step.ctx.log(`image ${name} (${imageId.slice(0, 12)})`);
    const artifact: ContainerArtifact = { runtime: 'container', image: name, imageId };
    return artifact;
  }

  async hasArtifact(artifact: Artifact): Promise<boolean> {
    if (artifact.runtime !== 'container') return false;
    return (await this.deps.podman.inspectImage(artifact.imageId ?? artifact.image)) !== undefined;
  }

  /**
   * Removes the images of stored versions: a version's name when it still names that
   * version's image, and an image no name holds any more. An image a container still uses (or
   * that another name holds) stays.
   */
  async removeArtifacts(project: string, componentId: string, artifacts: Artifact[]): Promise<void> {
    for (const a of artifacts) {
      if (a.runtime !== 'container') continue;
      const named = await this.deps.podman.inspectImage(a.image);
      let outcome: string | undefined;
      if (named && (!a.imageId || named.id === a.imageId)) outcome = await this.deps.podman.removeImage(a.image);
      else if (a.imageId) {
        const byId = await this.deps.podman.inspectImage(a.imageId);
        if (byId && byId.names.length === 0) outcome = await this.deps.podman.removeImage(a.imageId);
      }
      if (outcome === 'in-use') this.deps.log.info({ project, componentId, image: a.image }, 'image still used by a container; kept');
    }
  }

  /**
   * After an OpenStage start: adopts the replicas that should run, then removes what nothing
   * accounts for — replica containers without a record (a start or stop cut short) and the
   * working containers of builds cut short.
   */
  override async adopt(releaseOf: ReleaseLookup, owns?: (project: string, componentId: string) => boolean): Promise<void> {
    await super.adopt(releaseOf, owns);
    const supervised = this.driver.supervised();
    // podman never ran here: nothing to take over or sweep (and no podman call at start).
    if (supervised.size === 0 && !this.deps.podman.storeExists()) return;
    for (const c of await this.deps.podman.list({ [LABEL.managed]: 'true' })) {
      if (supervised.has(c.labels[LABEL.instance] ?? '')) continue;
      this.deps.log.info({ container: c.name }, 'removing a replica container no record accounts for');
      await this.deps.podman.remove(c.id);
    }
    await this.deps.podman.sweepBuildContainers();
  }

  override async shutdown(stopReplicas: boolean): Promise<void> {
    await super.shutdown(stopReplicas);
    this.driver.close();
  }
}
