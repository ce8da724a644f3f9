import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../core/db/kysely.js';
import type { Logger } from '../core/log.js';
import type { Artifact, Runtime, RuntimeKind } from './runtime.js';
import * as deployStore from './store.js';
import type { ComponentPlan, TaskContext } from './types.js';

/** What Retention needs of the engine. */
export interface RetentionDeps {
  db: Db;
  log: Logger;
  /** `<data>/deploy/artifacts`: builds are `<project>/<component>/<version>-<job>[.build.log]`. */
  artifactsDir: string;
  /** `deploy.revisionHistoryLimit`. */
  defaultLimit: number;
  runtime: (kind: RuntimeKind) => Runtime | undefined;
  /** A stored release's artifact (JSON of its row), or undefined. */
  artifactOf: (json: string) => Artifact | undefined;
  /** Versions the component's replicas run now. */
  runningVersions: (project: string, componentId: string) => string[];
}

/**
 * Retention of built versions (issue #18 item 19; `update_strategy.revision_history_limit`, as a
 * Kubernetes Deployment keeps `revisionHistoryLimit` old ReplicaSets). After a version rolled
 * out, the running version, any version a replica runs (a gray one) and the `limit` newest
 * others are kept; older releases go — their rows first (so no rollback picks one up), then
 * their artifacts through their runtime's removeArtifacts (directories, images) and their
 * build files. The component's deployment records (src/cas) stay.
 */
export class Retention {
  constructor(private readonly deps: RetentionDeps) {}

  /**
   * Applies the plan's limit (else the server's) once `plan.version` runs; `replaced` is an
   * earlier build of the same version the deployment replaced (removed too). Never throws: a
   * failed removal is said in the task's messages.
   */
  async prune(plan: ComponentPlan, ctx: TaskContext, replaced?: Artifact): Promise<void> {
    const { project, componentId } = plan;
    const limit = plan.revisionHistoryLimit ?? this.deps.defaultLimit;
    try {
      const keep = new Set([plan.version, ...this.deps.runningVersions(project, componentId)]);
      const built = (await deployStore.listReleases(this.deps.db.kysely, project, componentId)).filter((r) => r.launch);
      const doomed = new Set(versionsBeyondLimit(built, keep, limit));
      const artifacts = built.filter((r) => doomed.has(r.version)).flatMap((r) => this.deps.artifactOf(r.launch) ?? []);
      if (replaced) artifacts.push(replaced);
      await deployStore.deleteReleases(this.deps.db.kysely, project, componentId, [...doomed]);
      for (const kind of new Set(artifacts.map((a) => a.runtime))) {
        await this.deps.runtime(kind)?.removeArtifacts(project, componentId, artifacts.filter((a) => a.runtime === kind));
      }
      for (const version of doomed) this.removeBuildFiles(project, componentId, version);
      if (replaced) this.removeBuildFiles(project, componentId, plan.version, ctx.jobId);
      if (doomed.size > 0) ctx.log(`removed ${[...doomed].join(', ')} and their artifacts: ${limit} earlier version(s) are kept (revision_history_limit)`);
    } catch (err) {
      this.deps.log.warn({ err, project, componentId }, 'old releases could not be removed');
      ctx.log(`old versions could not all be removed: ${(err as Error).message}`);
    }
  }

  /** Removes the build files of a version (workspaces and build logs `<version>-<job>`), but job `keepJobId`'s. */
  private removeBuildFiles(project: string, componentId: string, version: string, keepJobId?: string): void {
    const dir = join(this.deps.artifactsDir, project, componentId);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    const keep = keepJobId ? `${version}-${keepJobId.slice(3, 11)}` : undefined;
    for (const name of names) {
      if (name.startsWith(`${version}-`) && !(keep && (name === keep || name === `${keep}.build.log`))) rmSync(join(dir, name), { recursive: true, force: true });
    }
  }
}

/**
 * The stored versions a revision history limit removes: besides the versions in `keep`
 * (running, gray), the `limit` newest stay.
 * @param releases oldest first @returns the versions to remove, oldest first
 */
export function versionsBeyondLimit(releases: readonly { version: string }[], keep: ReadonlySet<string>, limit: number): string[] {
  const old = releases.filter((r) => !keep.has(r.version));
  return old.slice(0, Math.max(0, old.length - Math.max(0, limit))).map((r) => r.version);
}
