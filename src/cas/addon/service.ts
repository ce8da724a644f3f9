import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { AlreadyExistsError, type OpenStageError } from '../../core/errors.js';
import { newJobId, type JobService } from '../../deploy/job-service.js';
import type { TaskSpec } from '../../deploy/types.js';
import { casError } from '../errors.js';
import type { CasDeps } from '../types.js';
import { ADDON_CATALOG, findAddonMetadata } from './catalog.js';
import * as addonStore from './store.js';
import type { Addon, AddonCreate, AddonMetadata, EnvironmentLookup } from './types.js';

/** Actions of POST .../addons/{id}/action. */
const ACTIONS = ['redeploy'] as const;

/** Longest an add-on job step may take, milliseconds. */
const ADDON_STEP_TIMEOUT_MS = 60_000;

/**
 * Add-ons of an environment (servicestage.md §8): the shipped catalog (catalog.ts), one
 * add-on of a name per environment. Every call checks the environment first (401
 * SVCSTG.00100401 when absent); a missing add-on is 404 SVCSTG.00100404.
 *
 * What an add-on does in OpenStage is described in catalog.ts. Install, redeploy and delete
 * each run a deployment job (GET /cas/jobs/{job_id} shows its tasks): the add-on is
 * INITIALIZING / UPGRADING / DELETING while it runs, then SUCCEEDED or FAILED (a deleted
 * add-on's record goes away when its job succeeds). Jobs of one add-on run one at a time.
 * Add-ons of a deleted environment are removed (bus `cas.environment.deleted`).
 */
export class AddonService {
  private readonly log: CasDeps['log'];
  /** Removals started by bus events and not finished yet. */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly deps: CasDeps,
    private readonly environments: EnvironmentLookup,
    private readonly jobs: JobService,
  ) {
    this.log = deps.log.child({ area: 'cas', resource: 'addon' });
    deps.bus.subscribe('cas.environment.deleted', ({ project, environmentId }) => {
      const work = addonStore
        .deleteAddonsOfEnvironment(deps.db.kysely, project, environmentId)
        .then(() => undefined)
        .catch((err: unknown) => this.log.error({ err, project, environmentId }, 'removing add-ons of a deleted environment failed'))
        .finally(() => this.pending.delete(work));
      this.pending.add(work);
    });
  }

  /** Resolves when the removals started by `cas.environment.deleted` events so far have finished. */
  async settle(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /** The add-ons OpenStage ships. @throws 401 SVCSTG.00100401 when the environment is absent */
  async metadata(project: string, environmentId: string): Promise<readonly AddonMetadata[]> {
    await this.environments.get(project, environmentId);
    return ADDON_CATALOG;
  }

  /**
   * Installs a shipped add-on at its latest version. @returns the add-on (with its job id)
   * @throws 401 SVCSTG.00100401 when the environment is absent; 400 SVCSTG.00100400 for an
   *   add-on not shipped or a missing cse_id; 400 SVCSTG.00100459 when the environment has it
   */
  async create(project: string, environmentId: string, body: AddonCreate): Promise<Addon> {
    await this.environments.get(project, environmentId);
    const meta = findAddonMetadata(body.name);
    if (!meta) throw casError('InvalidParameter', `body/name: add-on "${body.name}" is not shipped; OpenStage ships ${ADDON_CATALOG.map((a) => a.name).join(', ')}`);
    if (meta.needsCse && !body.cse_id) throw casError('InvalidParameter', `body/cse_id is required for add-on ${meta.name}`);
    const now = this.deps.clock.now();
    const addon: Addon = {
      id: randomUUID(),
      projectId: project,
      environmentId,
      name: meta.name,
      version: meta.latestVersion,
      cceId: body.cce_id,
      cseId: body.cse_id ?? '',
      jobId: '',
      status: 'INITIALIZING',
      createdAtMs: now,
      updatedAtMs: now,
    };
    try {
      await addonStore.createAddon(this.deps.db.kysely, addon);
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw casError('NameUsed', `environment ${environmentId} already has add-on ${meta.name}`);
      throw err;
    }
    addon.jobId = await this.runJob(addon, 'install', 'SUCCEEDED');
    this.log.info({ project, environmentId, addon: addon.name, jobId: addon.jobId }, 'add-on install started');
    return addon;
  }

  /** The add-ons of an environment. @throws 401 SVCSTG.00100401 when the environment is absent */
  async list(project: string, environmentId: string): Promise<Addon[]> {
    await this.environments.get(project, environmentId);
    return addonStore.listAddons(this.deps.db.kysely, project, environmentId);
  }

  /** One add-on. @throws 401 SVCSTG.00100401 (environment), 404 SVCSTG.00100404 (add-on) */
  async get(project: string, environmentId: string, addonId: string): Promise<Addon> {
    await this.environments.get(project, environmentId);
    return this.require(project, environmentId, addonId);
  }

  /**
   * Runs an action on an add-on (`redeploy`). @returns the new job id
   * @throws 400 SVCSTG.00100418 for another action; 401/404 as get
   */
  async action(project: string, environmentId: string, addonId: string, action: string): Promise<string> {
    await this.environments.get(project, environmentId);
    if (!(ACTIONS as readonly string[]).includes(action)) throw casError('ActionNotDefined', `add-on action "${action}" is not defined; use one of ${ACTIONS.join(', ')}`);
    const addon = await this.require(project, environmentId, addonId);
    return this.runJob(addon, 'redeploy', 'SUCCEEDED');
  }

  /**
   * Uninstalls an add-on in a job; the record goes away when the job succeeds.
   * @returns the job id @throws 401/404 as get
   */
  async delete(project: string, environmentId: string, addonId: string): Promise<string> {
    await this.environments.get(project, environmentId);
    const addon = await this.require(project, environmentId, addonId);
    return this.runJob(addon, 'uninstall', 'DELETED');
  }

  /**
   * JVM options for Java components deployed in an environment: `-javaagent:<jar>` when its
   * sermantInjector add-on has SUCCEEDED, else none.
   */
  async javaAgentOptions(project: string, environmentId: string): Promise<string[]> {
    const addons = await addonStore.listAddons(this.deps.db.kysely, project, environmentId);
    const sermant = addons.find((a) => a.name === 'sermantInjector' && a.status === 'SUCCEEDED');
    return sermant && this.deps.config.cas.sermantAgentPath ? [`-javaagent:${this.deps.config.cas.sermantAgentPath}`] : [];
  }

  /**
   * Submits an add-on job (install, redeploy or uninstall): marks the add-on with its running
   * status and the job id, and records the outcome when the job ends. @returns the job id
   */
  private async runJob(addon: Addon, kind: 'install' | 'redeploy' | 'uninstall', success: 'SUCCEEDED' | 'DELETED'): Promise<string> {
    const running = kind === 'install' ? 'INITIALIZING' : kind === 'redeploy' ? 'UPGRADING' : 'DELETING';
    const tasks: TaskSpec[] =
      kind === 'uninstall'
        ? [{ name: `detach ${addon.name}`, type: 'addon', timeoutMs: ADDON_STEP_TIMEOUT_MS, run: async (ctx) => ctx.log('Java components deployed from now on start without the agent') }]
        : [{ name: `check the ${addon.name} agent`, type: 'addon', timeoutMs: ADDON_STEP_TIMEOUT_MS, run: async (ctx) => ctx.log(`agent ${this.checkAgent()} ready; Java components deployed in this environment start with it`) }];
    const { db, clock } = this.deps;
    const jobId = newJobId();
    // Marked before the job exists: a job that ends at once must not be overwritten.
    await addonStore.setJob(db.kysely, addon.projectId, addon.id, jobId, running, clock.now());
    await this.jobs.submit({
      jobId,
      project: addon.projectId,
      jobType: `addon-${kind}`,
      targetId: `addon/${addon.id}`,
      tasks,
      onFinish: async (status) => {
        if (status === 'SUCCEEDED' && success === 'DELETED') await addonStore.deleteAddon(db.kysely, addon.projectId, addon.environmentId, addon.id);
        else await addonStore.setJob(db.kysely, addon.projectId, addon.id, jobId, status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED', clock.now());
      },
    });
    return jobId;
  }

  /**
   * The configured Sermant agent jar. @returns its path
   * @throws Error saying what to configure when it is unset, missing or not a jar
   */
  private checkAgent(): string {
    const path = this.deps.config.cas.sermantAgentPath;
    if (!path) throw new Error('no Sermant agent is configured: set cas.sermantAgentPath (OPENSTAGE_CAS_SERMANT_AGENT_PATH) to the sermant-agent.jar of a Sermant release');
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw new Error(`the Sermant agent ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      const head = Buffer.alloc(4);
      readSync(fd, head, 0, 4, 0);
      if (head.readUInt32LE(0) !== 0x04034b50) throw new Error(`the Sermant agent ${path} is not a jar`);
    } finally {
      closeSync(fd);
    }
    return path;
  }

  private async require(project: string, environmentId: string, addonId: string): Promise<Addon> {
    const addon = await addonStore.findAddon(this.deps.db.kysely, project, environmentId, addonId);
    if (!addon) throw this.notFound(addonId);
    return addon;
  }

  private notFound(addonId: string): OpenStageError {
    return casError('ResourceNotFound', `add-on ${addonId} does not exist in this environment`);
  }
}
