import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, OpenStageError } from '../../core/errors.js';
import { paginate, type PageQuery } from '../common/page.js';
import { CasCodes, casError } from '../errors.js';
import type { CasDeps } from '../types.js';
import * as appStore from './store.js';
import type { Application, ApplicationConfig, ApplicationCreate, ApplicationUpdate, ApplicationView, EnvironmentLookup, EnvVar } from './types.js';

/**
 * Applications and their per-environment configuration (servicestage.md §3).
 *
 * - Names follow ResourceName and are unique per project (400 SVCSTG.00100458).
 * - A missing application is 401 SVCSTG.00100401, as the real v3 API answers (§12.1).
 * - Delete is refused (400 SVCSTG.00100402) while the application has components; it
 *   removes the application's configurations in the same transaction and publishes
 *   `cas.application.deleted` after commit.
 * - Configurations of an environment are removed when `cas.environment.deleted` is
 *   published; until that has run, reads skip configurations whose environment is gone.
 */
export class ApplicationService {
  private readonly log: CasDeps['log'];
  /** Removals started by bus events and not finished yet. */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly deps: CasDeps,
    private readonly environments: EnvironmentLookup,
  ) {
    this.log = deps.log.child({ area: 'cas', resource: 'application' });
    deps.bus.subscribe('cas.environment.deleted', ({ project, environmentId }) => {
      const work = this.dropEnvironment(project, environmentId)
        .catch((err: unknown) => this.log.error({ err, project, environmentId }, 'removing configurations of a deleted environment failed'))
        .finally(() => this.pending.delete(work));
      this.pending.add(work);
    });
  }

  /** Resolves when the removals started by `cas.environment.deleted` events so far have finished. */
  async settle(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /**
   * Creates an application. `enterprise_project_id` defaults to "0", description to "",
   * labels to `[]`. @param creator the caller's user name
   * @throws 400 SVCSTG.00100458 when the name is used in the project
   */
  async create(project: string, body: ApplicationCreate, creator: string): Promise<ApplicationView> {
    const now = this.deps.clock.now();
    const app: Application = {
      id: randomUUID(),
      projectId: project,
      name: body.name,
      description: body.description ?? '',
      enterpriseProjectId: body.enterprise_project_id || '0',
      labels: body.labels ?? [],
      creator,
      createdAtMs: now,
      updatedAtMs: now,
    };
    try {
      await appStore.createApplication(this.deps.db.kysely, app);
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw casError('ApplicationNameUsed', `application name "${body.name}" is already used in this project`);
      throw err;
    }
    return { ...app, componentCount: 0 };
  }

  /** One application with its component count. @throws 401 SVCSTG.00100401 when absent */
  async get(project: string, applicationId: string): Promise<ApplicationView> {
    const app = await this.require(project, applicationId);
    return { ...app, componentCount: await this.deps.components.countInApplication(project, applicationId) };
  }

  /** A page of the project's applications (servicestage.md §1 paging) and the total. */
  async list(project: string, query: PageQuery): Promise<{ items: ApplicationView[]; total: number }> {
    const apps = (await appStore.listApplications(this.deps.db.kysely, project)).map((a) => ({ id: a.id, name: a.name, create_time: a.createdAtMs, update_time: a.updatedAtMs, app: a }));
    const page = paginate(apps, query);
    const items = await Promise.all(page.items.map(async ({ app }) => ({ ...app, componentCount: await this.deps.components.countInApplication(project, app.id) })));
    return { items, total: page.total };
  }

  /**
   * Changes name, description, enterprise project and/or labels (the full list; `[]`
   * clears); absent fields stay. @throws 401 SVCSTG.00100401 when absent, 400
   * SVCSTG.00100458 when the new name is used by another application
   */
  async update(project: string, applicationId: string, body: ApplicationUpdate): Promise<ApplicationView> {
    const db = this.deps.db.kysely;
    const updated = await db.transaction().execute(async (trx) => {
      const app = await appStore.findApplication(trx, project, applicationId);
      if (!app) throw this.notFound(applicationId);
      const next: Application = {
        ...app,
        name: body.name ?? app.name,
        description: body.description ?? app.description,
        enterpriseProjectId: body.enterprise_project_id || app.enterpriseProjectId,
        labels: body.labels ?? app.labels,
        updatedAtMs: this.deps.clock.now(),
      };
      try {
        await appStore.updateApplication(trx, next);
      } catch (err) {
        if (err instanceof AlreadyExistsError) throw casError('ApplicationNameUsed', `application name "${next.name}" is already used in this project`);
        throw err;
      }
      return next;
    });
    return { ...updated, componentCount: await this.deps.components.countInApplication(project, applicationId) };
  }

  /**
   * Deletes an application and its configurations; publishes `cas.application.deleted`.
   * @throws 401 SVCSTG.00100401 when absent, 400 SVCSTG.00100402 while it has components
   */
  async delete(project: string, applicationId: string): Promise<void> {
    await this.require(project, applicationId);
    const components = await this.deps.components.countInApplication(project, applicationId);
    if (components > 0) throw casError('AlreadyDeployed', `application ${applicationId} still has ${components} component(s); delete them first`);
    const existed = await this.deps.db.kysely.transaction().execute(async (trx) => {
      await appStore.deleteConfigsOfApplication(trx, project, applicationId);
      return appStore.deleteApplication(trx, project, applicationId);
    });
    if (!existed) throw this.notFound(applicationId);
    this.deps.bus.publish('cas.application.deleted', { project, applicationId });
  }

  /**
   * The application's configurations, one per environment, optionally only `environmentId`'s.
   * @throws 401 SVCSTG.00100401 when the application is absent; 404 SVCSTG.00100404 when
   *   `environmentId` is given and nothing is stored for it (or the environment is gone)
   */
  async getConfiguration(project: string, applicationId: string, environmentId?: string): Promise<ApplicationConfig[]> {
    await this.require(project, applicationId);
    const configs = await this.liveConfigs(project, await appStore.listConfigs(this.deps.db.kysely, project, applicationId, environmentId));
    if (environmentId !== undefined && configs.length === 0) throw casError('ResourceNotFound', `application ${applicationId} has no configuration in environment ${environmentId}`);
    return configs;
  }

  /**
   * Replaces the configuration of the application in one environment. A name given twice
   * keeps its first position and its last value. `assign_strategy` defaults to false.
   * @throws 401 SVCSTG.00100401 when the application or the environment is absent
   */
  async putConfiguration(project: string, applicationId: string, body: { environment_id: string; configuration: { env: EnvVar[]; assign_strategy?: boolean } }): Promise<ApplicationConfig> {
    await this.require(project, applicationId);
    await this.environments.get(project, body.environment_id);
    const byName = new Map<string, string>();
    for (const e of body.configuration.env) byName.set(e.name, e.value);
    const now = this.deps.clock.now();
    const config: ApplicationConfig = {
      projectId: project,
      applicationId,
      environmentId: body.environment_id,
      env: [...byName].map(([name, value]) => ({ name, value })),
      assignStrategy: body.configuration.assign_strategy ?? false,
      createdAtMs: now,
      updatedAtMs: now,
    };
    return this.deps.db.kysely.transaction().execute(async (trx) => {
      // The application may have been deleted since the check above.
      if (!(await appStore.findApplication(trx, project, applicationId))) throw this.notFound(applicationId);
      await appStore.putConfig(trx, config);
      const [stored] = await appStore.listConfigs(trx, project, applicationId, body.environment_id);
      return stored ?? config;
    });
  }

  /** Deletes the configuration of one environment; nothing stored is fine. @throws 401 SVCSTG.00100401 when the application is absent */
  async deleteConfiguration(project: string, applicationId: string, environmentId: string): Promise<void> {
    await this.require(project, applicationId);
    await appStore.deleteConfig(this.deps.db.kysely, project, applicationId, environmentId);
  }

  /**
   * For the deployment engine: the environment variables an application gives its
   * components in one environment, in order (`[]` when nothing is configured, the
   * application is gone or the environment is gone). Component-level variables override
   * these by name.
   */
  async envVars(project: string, applicationId: string, environmentId: string): Promise<EnvVar[]> {
    const [config] = await this.liveConfigs(project, await appStore.listConfigs(this.deps.db.kysely, project, applicationId, environmentId));
    return config ? config.env.map((e) => ({ ...e })) : [];
  }

  /** Removes the configurations of a deleted environment (bus listener). */
  private async dropEnvironment(project: string, environmentId: string): Promise<void> {
    const n = await appStore.deleteConfigsOfEnvironment(this.deps.db.kysely, project, environmentId);
    if (n > 0) this.log.info({ project, environmentId, configurations: n }, 'configurations of a deleted environment removed');
  }

  /** `configs` without those whose environment no longer exists. */
  private async liveConfigs(project: string, configs: ApplicationConfig[]): Promise<ApplicationConfig[]> {
    const live = await Promise.all(configs.map((c) => this.environmentExists(project, c.environmentId)));
    return configs.filter((_, i) => live[i]);
  }

  private async environmentExists(project: string, environmentId: string): Promise<boolean> {
    try {
      await this.environments.get(project, environmentId);
      return true;
    } catch (err) {
      if (err instanceof OpenStageError && err.code === CasCodes.NotFound.code) return false;
      throw err;
    }
  }

  private async require(project: string, applicationId: string): Promise<Application> {
    const app = await appStore.findApplication(this.deps.db.kysely, project, applicationId);
    if (!app) throw this.notFound(applicationId);
    return app;
  }

  private notFound(applicationId: string): OpenStageError {
    return casError('NotFound', `application ${applicationId} does not exist`);
  }
}
