import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { OpenStageError } from '../../../core/errors.js';
import { randomToken } from '../../../core/secrets.js';
import type { EngineService } from '../../../engines/service.js';
import { BUILT_IN_ENGINE_ID, FLAVORS, type EngineJob } from '../../../engines/types.js';
import type { IacProvider, IacTarget } from './types.js';

/** What environments use of engine management: look-ups for `cse` bindings, create/delete for the `cse` provider. */
export type EngineAccess = Pick<EngineService, 'endpointsOf' | 'create' | 'delete' | 'getJob'>;

/** Engine-management code of an unknown engine (src/engines/errors.ts EngineNotFound). */
const ENGINE_NOT_FOUND = 'SVCSTG.00501116';
/** Engine-management code of an engine that cannot be deleted now (CannotDelete). */
const CANNOT_DELETE = 'SVCSTG.00501117';
/** CSE engine names: 3–24 letters, digits and hyphens, a letter first, no hyphen last. */
const ENGINE_NAME = /^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$/;
const DEFAULT_FLAVOR = 'cse.s1.small2';
/** Engine statuses in which an engine serves its registry (Unavailable: its process is being restarted). */
const USABLE = new Set(['Available', 'Unavailable', 'Creating']);
const POLL_MS = 200;

/** True when `err` is engine management's "no such engine" (400 SVCSTG.00501116). */
export function isEngineNotFound(err: unknown): boolean {
  return err instanceof OpenStageError && err.code === ENGINE_NOT_FOUND;
}

/** The engine name a `cse` created resource gets without a `name` variable: `os-<name>-<6 hex of the id>` (≤ 24 characters). */
function defaultEngineName(resource: { id: string; name: string }): string {
  const base = resource.name.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 14).replace(/-+$/, '');
  const suffix = createHash('sha256').update(resource.id).digest('hex').slice(0, 6);
  return base ? `os-${base}-${suffix}` : `os-${suffix}`;
}

/** A root password meeting the engine rules: upper, lower, digit and special character, 28 characters. */
function rootPassword(): string {
  return `Os1!${randomToken(18)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The log lines of a job's failed stages, for a provisioning record. */
function jobFailure(job: EngineJob): string {
  const failed = job.tasks.filter((t) => t.status === 'Error' || t.status === 'Timeout');
  const lines = failed.map((t) => `${t.name}: ${t.messages.at(-1) ?? t.status}`);
  return `job ${job.id} ended ${job.status}${lines.length ? ` (${lines.join('; ')})` : ''}`;
}

/**
 * The `cse` provider: an exclusive CSE engine made by engine management (src/engines,
 * EngineService.create — a separate OpenStage process with its own registry and config
 * center), removed by EngineService.delete. Variables (all optional): `name` (engine name,
 * default `os-<resource name>-<6 hex>`), `flavor` (cse.s1.small2 … xlarge2, default small2),
 * `auth_type` (`NONE` default, or `RBAC`: the root password is generated and kept only in
 * the sealed state; `admin_pass` is refused because variables are stored in clear) and
 * `description`. The resource id is the engine id; the state is `{engine_id, name, flavor,
 * auth_type, endpoint, registry, config_center}` (+ `password` for RBAC), so components of
 * the environment get PAAS_CSE_SC_ENDPOINT / PAAS_CSE_CC_ENDPOINT = the engine's address.
 * A changed name, flavor or auth_type replaces the engine. It deletes only the engine whose
 * id its state holds (one it created; engine ids are fresh UUIDs).
 */
export class CseProvider implements IacProvider {
  readonly type = 'cse';

  /**
   * @param engines engine management
   * @param waitMs longest (real) time to wait for an engine's create or delete job
   */
  constructor(
    private readonly engines: EngineAccess,
    private readonly waitMs: number,
  ) {}

  check(vars: Record<string, string>): string | undefined {
    if (vars.name !== undefined && !ENGINE_NAME.test(vars.name)) return `vars name must be an engine name (3-24 letters, digits and hyphens, a letter first, no hyphen last), not '${vars.name}'`;
    if (vars.flavor !== undefined && !FLAVORS.some((f) => f.flavor === vars.flavor)) return `vars flavor must be one of ${FLAVORS.map((f) => f.flavor).join(', ')}, not '${vars.flavor}'`;
    if (vars.auth_type !== undefined && vars.auth_type !== 'RBAC' && vars.auth_type !== 'NONE') return `vars auth_type must be RBAC or NONE, not '${vars.auth_type}'`;
    if (vars.admin_pass !== undefined) return 'vars admin_pass is not accepted (variables are stored in clear): an RBAC engine gets a generated root password, kept sealed in the resource state';
    if (vars.description !== undefined && vars.description.length > 255) return 'vars description must be at most 255 characters';
    return undefined;
  }

  identity(resource: { id: string; name: string }, vars: Record<string, string>): string {
    const s = this.settings(resource, vars);
    return `${s.name}/${s.flavor}/${s.authType}`;
  }

  stateIdentity(state: Record<string, string>): string {
    return `${state.name}/${state.flavor}/${state.auth_type}`;
  }

  async apply(resource: IacTarget, vars: Record<string, string>, previous: Record<string, string> | undefined): Promise<{ resourceId: string; state: Record<string, string> }> {
    if (previous?.engine_id) {
      const found = await this.find(resource.project, previous.engine_id);
      if (found) {
        if (!USABLE.has(found.status)) throw new Error(`engine ${found.name} (${found.id}) is ${found.status}; delete this resource and provision again to replace it`);
        return { resourceId: found.id, state: this.stateOf(found, previous.flavor ?? DEFAULT_FLAVOR, previous.password) };
      }
      // The engine was deleted outside the environment: make a new one.
    }
    const s = this.settings(resource, vars);
    const password = s.authType === 'RBAC' ? rootPassword() : undefined;
    let created: { id: string; jobId: number };
    try {
      created = await this.engines.create(resource.project, resource.user, {
        name: s.name,
        description: vars.description ?? `created resource ${resource.name} of a ServiceStage environment`,
        payment: '1',
        flavor: s.flavor,
        azList: [],
        authType: s.authType,
        specType: 'CSE2',
        enterpriseProjectId: '0',
        ...(password ? { password } : {}),
      });
    } catch (err) {
      throw new Error(`engine ${s.name} cannot be created: ${(err as Error).message}${err instanceof OpenStageError && err.detail ? ` (${err.detail})` : ''}`);
    }
    const job = await this.waitJob(resource.project, created.id, created.jobId);
    if (job === 'gone' || job.status !== 'Finished') {
      const reason = job === 'gone' ? 'the engine disappeared while it was created' : jobFailure(job);
      // A half-made engine is not left behind (best effort: the reason above is what matters).
      await this.remove(resource.project, created.id, resource.user).catch(() => undefined);
      throw new Error(`engine ${s.name} was not created: ${reason}`);
    }
    const found = await this.find(resource.project, created.id);
    if (!found) throw new Error(`engine ${s.name} (${created.id}) disappeared after it was created`);
    return { resourceId: found.id, state: this.stateOf(found, s.flavor, password) };
  }

  async destroy(resource: IacTarget, state: Record<string, string>): Promise<void> {
    if (!state.engine_id || state.engine_id === BUILT_IN_ENGINE_ID) return;
    await this.remove(resource.project, state.engine_id, resource.user);
  }

  /** Deletes an engine and waits until it is gone (already gone is fine). @throws Error when the delete job fails */
  private async remove(project: string, engineId: string, user: string): Promise<void> {
    let jobId: number | undefined;
    try {
      jobId = (await this.engines.delete(project, engineId, user)).jobId;
    } catch (err) {
      if (isEngineNotFound(err)) return;
      if (!(err instanceof OpenStageError && err.code === CANNOT_DELETE)) throw err;
      // Creating or Deleting: wait for that job, then delete (or find it gone).
      const found = await this.find(project, engineId);
      if (!found) return;
      const status = found.status;
      if (status !== 'Creating' && status !== 'Deleting') throw new Error(`engine ${engineId} cannot be deleted: ${err.message}${err.detail ? ` (${err.detail})` : ''}`);
      await this.waitSettled(project, engineId);
      return this.remove(project, engineId, user);
    }
    const job = await this.waitJob(project, engineId, jobId);
    if (job !== 'gone' && job.status !== 'Finished') throw new Error(`engine ${engineId} was not deleted: ${jobFailure(job)}`);
    if (job !== 'gone' && (await this.find(project, engineId))) throw new Error(`engine ${engineId} still exists after its delete job`);
  }

  /** Waits until an engine is neither Creating nor Deleting (or gone), within waitMs. */
  private async waitSettled(project: string, engineId: string): Promise<void> {
    const deadline = performance.now() + this.waitMs;
    for (;;) {
      const found = await this.find(project, engineId);
      if (!found || (found.status !== 'Creating' && found.status !== 'Deleting')) return;
      if (performance.now() > deadline) throw new Error(`engine ${engineId} is still ${found.status} after ${Math.round(this.waitMs / 1000)} s`);
      await sleep(POLL_MS);
    }
  }

  /**
   * Polls an engine job until it ends, within waitMs. @returns the ended job, or 'gone' when
   * the engine no longer exists (a finished delete removes the engine and its jobs)
   * @throws Error when the job has not ended in time
   */
  private async waitJob(project: string, engineId: string, jobId: number): Promise<EngineJob | 'gone'> {
    const deadline = performance.now() + this.waitMs;
    for (;;) {
      let job: EngineJob;
      try {
        job = await this.engines.getJob(project, engineId, String(jobId));
      } catch (err) {
        if (isEngineNotFound(err)) return 'gone';
        throw err;
      }
      if (job.status === 'Finished' || job.status === 'Error' || job.status === 'Timeout') return job;
      if (performance.now() > deadline) throw new Error(`engine ${engineId}: job ${jobId} has not ended after ${Math.round(this.waitMs / 1000)} s (still ${job.status})`);
      await sleep(POLL_MS);
    }
  }

  private async find(project: string, engineId: string): Promise<Awaited<ReturnType<EngineAccess['endpointsOf']>> | undefined> {
    try {
      return await this.engines.endpointsOf(project, engineId);
    } catch (err) {
      if (isEngineNotFound(err)) return undefined;
      throw err;
    }
  }

  private settings(resource: { id: string; name: string }, vars: Record<string, string>): { name: string; flavor: string; authType: 'RBAC' | 'NONE' } {
    return { name: vars.name ?? defaultEngineName(resource), flavor: vars.flavor ?? DEFAULT_FLAVOR, authType: vars.auth_type === 'RBAC' ? 'RBAC' : 'NONE' };
  }

  /** The binding state of an engine (its flavor never changes: engines are not resized). */
  private stateOf(e: Awaited<ReturnType<EngineAccess['endpointsOf']>>, flavor: string, password: string | undefined): Record<string, string> {
    return {
      engine_id: e.id,
      name: e.name,
      flavor,
      auth_type: e.authType,
      endpoint: e.registry,
      registry: e.registry,
      config_center: e.configCenter,
      ...(password ? { password } : {}),
    };
  }
}
