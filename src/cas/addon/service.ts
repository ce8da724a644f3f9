import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, type OpenStageError } from '../../core/errors.js';
import { casError } from '../errors.js';
import type { CasDeps } from '../types.js';
import { ADDON_CATALOG, findAddonMetadata } from './catalog.js';
import * as addonStore from './store.js';
import type { Addon, AddonCreate, AddonMetadata, EnvironmentLookup } from './types.js';

/** Actions of POST .../addons/{id}/action. */
const ACTIONS = ['redeploy'] as const;

/** A job id as ServiceStage prints them: `JOB` + UUID. */
function newJobId(): string {
  return `JOB${randomUUID()}`;
}

/**
 * Add-ons of an environment (servicestage.md §8): the shipped catalog (catalog.ts), one
 * add-on of a name per environment. Every call checks the environment first (401
 * SVCSTG.00100401 when absent); a missing add-on is 404 SVCSTG.00100404.
 *
 * What an add-on does in OpenStage is described in catalog.ts: so far it is a record.
 * Install, redeploy and delete each get a new job id (`JOB` + UUID) and finish at once;
 * the last job id and its final status (SUCCEEDED) are kept on the record. The job API
 * (GET /cas/jobs/{id}) belongs to the deployment engine and does not know these jobs yet.
 * Add-ons of a deleted environment are removed (bus `cas.environment.deleted`).
 */
export class AddonService {
  private readonly log: CasDeps['log'];
  /** Removals started by bus events and not finished yet. */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly deps: CasDeps,
    private readonly environments: EnvironmentLookup,
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
      jobId: newJobId(),
      status: 'SUCCEEDED',
      createdAtMs: now,
      updatedAtMs: now,
    };
    try {
      await addonStore.createAddon(this.deps.db.kysely, addon);
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw casError('NameUsed', `environment ${environmentId} already has add-on ${meta.name}`);
      throw err;
    }
    this.log.info({ project, environmentId, addon: addon.name, jobId: addon.jobId }, 'add-on installed');
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
    await this.require(project, environmentId, addonId);
    const jobId = newJobId();
    await addonStore.setJob(this.deps.db.kysely, project, addonId, jobId, 'SUCCEEDED', this.deps.clock.now());
    return jobId;
  }

  /** Uninstalls an add-on. @returns the job id @throws 401/404 as get */
  async delete(project: string, environmentId: string, addonId: string): Promise<string> {
    await this.environments.get(project, environmentId);
    if (!(await addonStore.deleteAddon(this.deps.db.kysely, project, environmentId, addonId))) throw this.notFound(addonId);
    return newJobId();
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
