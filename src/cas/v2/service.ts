import { randomUUID } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { AlreadyExistsError, OpenStageError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { ApplicationService } from '../application/service.js';
import type { ApplicationConfig, ApplicationView } from '../application/types.js';
import { paginate, type PageQuery } from '../common/page.js';
import { CreateComponentBody as V3CreateComponentBody, UpdateComponentBody as V3UpdateComponentBody } from '../component/schemas.js';
import type { ComponentService } from '../component/service.js';
import type { ComponentBody, ComponentView } from '../component/types.js';
import type { EnvironmentService } from '../environment/service.js';
import type { Environment } from '../environment/types.js';
import { CasCodes, casError, type CasCode } from '../errors.js';
import type { RuntimeStackService } from '../runtime-stack/service.js';
import type { CasDeps } from '../types.js';
import { flavorOfLimits, instanceToComponentBody, jobToV2, resourceKey, runtimeOfStack, sourceToV2, stackTypeOfRuntime, updateComponentBody, V2_RUNTIMES } from './convert.js';
import type {
  ChangeResourcesBodyWire,
  CreateApplicationBodyWire,
  CreateComponentBodyWire,
  CreateEnvironmentBodyWire,
  CreateInstanceBodyWire,
  InstanceActionBodyWire,
  JobQueryWire,
  JobWire,
  PutConfigurationBodyWire,
  UpdateApplicationBodyWire,
  UpdateComponentBodyWire,
  UpdateEnvironmentBodyWire,
  UpdateInstanceBodyWire,
  V2ResourceWire,
} from './schemas.js';
import * as v2Store from './store.js';
import type { V2Component, V2ComponentBody, V2EnvironmentExtra, V2InstanceLink } from './types.js';

/** The services the v2 API is a view over, built in server.ts. */
export interface CasV2Services {
  environments: EnvironmentService;
  applications: ApplicationService;
  components: ComponentService;
  runtimeStacks: RuntimeStackService;
}

/** An environment as v2 shows it. */
export interface V2EnvironmentView {
  environment: Environment;
  extra: V2EnvironmentExtra | undefined;
}

/** An instance: a v3 component with its v2 link. */
export interface V2InstanceView {
  view: ComponentView;
  link: V2InstanceLink | undefined;
  /** The v2 component it belongs to. */
  componentId: string;
  componentName: string;
  /** `cce` when its environment binds a Kubernetes cluster, else `vmapp`. */
  platformType: string;
  lastJobStatus: string;
  enterpriseProjectId: string;
}

/** A v2 component with its instances; `stored` is false for a v3 component seen through v2. */
export interface V2ComponentView {
  component: V2Component;
  stored: boolean;
  instances: V2InstanceView[];
}

/** The v2 actions (SDK InstanceActionType). */
const INSTANCE_ACTIONS = ['start', 'stop', 'restart', 'scale', 'rollback'] as const;


/**
 * The ServiceStage v2 API as a view over the v3 model (src/cas/v2/README.md): v2
 * environments and applications are the v3 ones; a v2 instance is a v3 component (same
 * id, named after the instance); a v2 component is a definition stored here whose
 * instances deploy it, or — for a v3 component created through v3 — the component itself
 * (component id = instance id). Every change goes through the v3 services, so their rules,
 * transactions and the deployment engine apply; this service keeps only what v3 has no field
 * for (tables of migration 0017) and answers v2's own not-found codes (404, where v3 answers 401).
 */
export class CasV2Service {
  private readonly log: Logger;
  /** Removals started by bus events and not finished yet. */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly deps: CasDeps,
    private readonly services: CasV2Services,
  ) {
    this.log = deps.log.child({ area: 'cas', resource: 'v2' });
    deps.bus.subscribe('cas.environment.deleted', ({ project, environmentId }) => this.track(v2Store.deleteEnvironmentExtra(deps.db.kysely, project, environmentId), 'removing the v2 fields of a deleted environment'));
    deps.bus.subscribe('cas.application.deleted', ({ project, applicationId }) => this.track(v2Store.deleteApplicationComponents(deps.db.kysely, project, applicationId), 'removing the v2 components of a deleted application'));
  }

  /** Resolves when the clean-ups started by bus events so far have finished. */
  async settle(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  // ───────────── environments ─────────────

  /**
   * Creates an environment (v2 CreateEnvironment): base and optional resources are bound as
   * the environment's managed resources. "" for deploy_mode or enterprise_project_id means
   * the default. @throws as EnvironmentService.create (400 SVCSTG.00100449 for a used name,
   * 400 for a resource OpenStage cannot bind)
   */
  async createEnvironment(project: string, body: CreateEnvironmentBodyWire, creator: string): Promise<V2EnvironmentView> {
    const base = body.base_resources ?? [];
    const optional = body.optional_resources ?? [];
    const env = await this.services.environments.create(
      project,
      {
        name: body.name,
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.enterprise_project_id ? { enterprise_project_id: body.enterprise_project_id } : {}),
        ...(body.deploy_mode ? { deploy_mode: body.deploy_mode as 'virtualmachine' | 'container' | 'mixed' } : {}),
        ...(body.vpc_id ? { vpc_id: body.vpc_id } : {}),
        resources: [...base, ...optional].map(toResourceBody),
      },
      creator,
    );
    const extra: V2EnvironmentExtra = { environmentId: env.id, projectId: project, alias: body.alias ?? '', chargeMode: body.charge_mode || 'provided', baseKeys: base.map(resourceKey), optionalKeys: optional.map(resourceKey) };
    await v2Store.putEnvironmentExtra(this.deps.db.kysely, extra);
    return { environment: env, extra };
  }

  /** One environment. @throws 404 SVCSTG.00100411 when absent */
  async getEnvironment(project: string, environmentId: string): Promise<V2EnvironmentView> {
    const environment = await this.v2(() => this.services.environments.get(project, environmentId), 'EnvironmentNotFound');
    return { environment, extra: await v2Store.findEnvironmentExtra(this.deps.db.kysely, project, environmentId) };
  }

  /** A page of the project's environments and the total. */
  async listEnvironments(project: string, query: PageQuery): Promise<{ items: V2EnvironmentView[]; total: number }> {
    const page = await this.services.environments.list(project, query);
    const extras = await v2Store.listEnvironmentExtras(this.deps.db.kysely, project, page.environments.map((e) => e.id));
    return { items: page.environments.map((environment) => ({ environment, extra: extras.get(environment.id) })), total: page.count };
  }

  /** Modifies name, alias, description (absent or "" name = unchanged). @throws 404 SVCSTG.00100411; 400 SVCSTG.00100449 for a used name */
  async updateEnvironment(project: string, environmentId: string, body: UpdateEnvironmentBodyWire): Promise<V2EnvironmentView> {
    const environment = await this.v2(
      () => this.services.environments.update(project, environmentId, { ...(body.name ? { name: body.name } : {}), ...(body.description !== undefined ? { description: body.description } : {}) }),
      'EnvironmentNotFound',
    );
    let extra = await v2Store.findEnvironmentExtra(this.deps.db.kysely, project, environmentId);
    if (body.alias !== undefined) {
      extra = { ...(extra ?? this.defaultExtra(project, environmentId)), alias: body.alias };
      await v2Store.putEnvironmentExtra(this.deps.db.kysely, extra);
    }
    return { environment, extra };
  }

  /**
   * Removes `remove_resources`, then binds `add_base_resources` and `add_optional_resources`
   * (v2 ChangeResourceInEnvironment, PATCH). @throws 404 SVCSTG.00100411; 400 for a resource
   * OpenStage cannot bind
   */
  async changeResources(project: string, environmentId: string, body: ChangeResourcesBodyWire): Promise<V2EnvironmentView> {
    const base = body.add_base_resources ?? [];
    const optional = body.add_optional_resources ?? [];
    const remove = body.remove_resources ?? [];
    const environment = await this.v2(() => this.services.environments.changeResources(project, environmentId, [...base, ...optional].map(toResourceBody), remove), 'EnvironmentNotFound');
    const before = (await v2Store.findEnvironmentExtra(this.deps.db.kysely, project, environmentId)) ?? this.defaultExtra(project, environmentId);
    const gone = new Set([...remove, ...base, ...optional].map(resourceKey));
    const extra: V2EnvironmentExtra = {
      ...before,
      baseKeys: [...before.baseKeys.filter((k) => !gone.has(k)), ...base.map(resourceKey)],
      optionalKeys: [...before.optionalKeys.filter((k) => !gone.has(k)), ...optional.map(resourceKey)],
    };
    await v2Store.putEnvironmentExtra(this.deps.db.kysely, extra);
    return { environment, extra };
  }

  /** Deletes an environment. @throws 404 SVCSTG.00100411; 400 SVCSTG.00100402 while instances are deployed in it */
  async deleteEnvironment(project: string, environmentId: string): Promise<void> {
    await this.v2(() => this.services.environments.delete(project, environmentId), 'EnvironmentNotFound');
  }

  // ───────────── applications ─────────────

  /** Creates an application ("" enterprise_project_id = the default). @throws 400 SVCSTG.00100458 for a used name */
  async createApplication(project: string, body: CreateApplicationBodyWire, creator: string): Promise<ApplicationView> {
    return this.services.applications.create(project, { name: body.name, ...(body.description !== undefined ? { description: body.description } : {}), ...(body.enterprise_project_id ? { enterprise_project_id: body.enterprise_project_id } : {}) }, creator);
  }

  /** One application; `componentCount` counts its v2 components. @throws 404 SVCSTG.00100403 */
  async getApplication(project: string, applicationId: string): Promise<ApplicationView> {
    const app = await this.v2(() => this.services.applications.get(project, applicationId), 'ApplicationNotFound');
    return { ...app, componentCount: (await this.resolve(project, applicationId)).length };
  }

  /** A page of applications, each with its v2 component count, and the total. */
  async listApplications(project: string, query: PageQuery): Promise<{ items: ApplicationView[]; total: number }> {
    const page = await this.services.applications.list(project, query);
    const items: ApplicationView[] = [];
    for (const app of page.items) items.push({ ...app, componentCount: (await this.resolve(project, app.id)).length });
    return { items, total: page.total };
  }

  /** Modifies name and description (absent or "" name = unchanged). @throws 404 SVCSTG.00100403; 400 SVCSTG.00100458 */
  async updateApplication(project: string, applicationId: string, body: UpdateApplicationBodyWire): Promise<ApplicationView> {
    const app = await this.v2(
      () => this.services.applications.update(project, applicationId, { ...(body.name ? { name: body.name } : {}), ...(body.description !== undefined ? { description: body.description } : {}) }),
      'ApplicationNotFound',
    );
    return { ...app, componentCount: (await this.resolve(project, applicationId)).length };
  }

  /**
   * Deletes an application; its v2 components without instances go with it.
   * @throws 404 SVCSTG.00100403; 400 SVCSTG.00100402 while instances are deployed
   */
  async deleteApplication(project: string, applicationId: string): Promise<void> {
    await this.v2(() => this.services.applications.delete(project, applicationId), 'ApplicationNotFound');
  }

  /** The application's configurations, optionally one environment's (`[]` when it has none). @throws 404 SVCSTG.00100403 */
  async getConfiguration(project: string, applicationId: string, environmentId: string | undefined): Promise<ApplicationConfig[]> {
    await this.requireApplication(project, applicationId);
    try {
      return await this.services.applications.getConfiguration(project, applicationId, environmentId);
    } catch (err) {
      if (err instanceof OpenStageError && err.code === CasCodes.ResourceNotFound.code) return [];
      throw err;
    }
  }

  /** Sets the application's variables in one environment. @throws 404 SVCSTG.00100403 / SVCSTG.00100411 */
  async putConfiguration(project: string, applicationId: string, body: PutConfigurationBodyWire): Promise<ApplicationConfig> {
    await this.requireApplication(project, applicationId);
    await this.getEnvironment(project, body.environment_id);
    return this.v2(() => this.services.applications.putConfiguration(project, applicationId, { environment_id: body.environment_id, configuration: { env: body.configuration.env ?? [] } }), 'ApplicationNotFound');
  }

  /** Deletes the application's variables in one environment (nothing stored is fine). @throws 404 SVCSTG.00100403 */
  async deleteConfiguration(project: string, applicationId: string, environmentId: string): Promise<void> {
    await this.v2(() => this.services.applications.deleteConfiguration(project, applicationId, environmentId), 'ApplicationNotFound');
  }

  // ───────────── components ─────────────

  /**
   * Creates a v2 component: a definition (runtime, category, source, build) that instances
   * deploy; nothing runs yet. @throws 404 SVCSTG.00100403; 400 SVCSTG.00100459 when the
   * application has a component of that name
   */
  async createComponent(project: string, applicationId: string, body: CreateComponentBodyWire, creator: string): Promise<V2ComponentView> {
    const existing = await this.resolve(project, applicationId);
    if (existing.some((c) => c.component.name === body.name)) throw this.nameUsed(body.name);
    const now = this.deps.clock.now();
    const component: V2Component = { id: randomUUID(), projectId: project, applicationId, name: body.name, body: componentBody(body), creator, deleting: false, createdAtMs: now, updatedAtMs: now };
    await this.insertComponent(component);
    this.log.info({ project, componentId: component.id }, 'v2 component created');
    return { component, stored: true, instances: [] };
  }

  /** A page of an application's v2 components (with their instances) and the total. @throws 404 SVCSTG.00100403 */
  async listComponents(project: string, applicationId: string, query: PageQuery): Promise<{ items: V2ComponentView[]; total: number }> {
    const all = await this.resolve(project, applicationId);
    const page = paginate(
      all.map((c) => ({ id: c.component.id, name: c.component.name, create_time: c.component.createdAtMs, update_time: c.component.updatedAtMs, c })),
      query,
    );
    return { items: page.items.map((i) => i.c), total: page.total };
  }

  /** One v2 component. @throws 404 SVCSTG.00100403 / SVCSTG.00100404 */
  async getComponent(project: string, applicationId: string, componentId: string): Promise<V2ComponentView> {
    return this.requireComponent(project, applicationId, componentId);
  }

  /**
   * Modifies a v2 component's name, description, source and build (absent = unchanged). Its
   * instances keep what they deploy until they are updated. A v3 component is first kept as
   * a v2 component of its own id. @throws 404; 400 SVCSTG.00100459 for a used name; 409 while it is deleted
   */
  async updateComponent(project: string, applicationId: string, componentId: string, body: UpdateComponentBodyWire): Promise<V2ComponentView> {
    const c = await this.requireLiveComponent(project, applicationId, componentId);
    const name = body.name || c.component.name;
    if (name !== c.component.name && (await this.resolve(project, applicationId)).some((o) => o.component.name === name)) throw this.nameUsed(name);
    if (!c.stored) await this.adopt(c);
    const next: V2Component = {
      ...c.component,
      name,
      body: {
        ...c.component.body,
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.source ? { source: body.source } : {}),
        ...(body.build ? { build: { parameters: body.build.parameters ?? {} } } : {}),
      },
      updatedAtMs: this.deps.clock.now(),
    };
    try {
      await v2Store.updateComponent(this.deps.db.kysely, next);
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw this.nameUsed(name);
      throw err;
    }
    return { ...c, component: next, stored: true };
  }

  /**
   * Deletes a v2 component. With instances it is refused (400 SVCSTG.00100402) unless
   * `force`: then each instance is removed (a job each) and the component shows status 1
   * until the last is gone. @throws 404 SVCSTG.00100403 / SVCSTG.00100404
   */
  async deleteComponent(project: string, applicationId: string, componentId: string, force: boolean): Promise<void> {
    const c = await this.requireComponent(project, applicationId, componentId);
    if (c.instances.length > 0 && !force) throw casError('AlreadyDeployed', `component ${c.component.name} has ${c.instances.length} instance(s); delete them first or pass force=true`);
    if (c.instances.length === 0) {
      if (c.stored) await v2Store.deleteComponent(this.deps.db.kysely, project, componentId);
      return;
    }
    if (!c.stored) await this.adopt(c);
    await v2Store.updateComponent(this.deps.db.kysely, { ...c.component, deleting: true, updatedAtMs: this.deps.clock.now() });
    for (const i of c.instances) await this.services.components.deleteForJob(project, applicationId, i.view.component.id);
    this.log.info({ project, componentId, instances: c.instances.length }, 'v2 component deleted with its instances');
  }

  // ───────────── instances ─────────────

  /**
   * Deploys a v2 component in an environment (v2 CreateInstance): a v3 component named after
   * the instance, built from the component's runtime, source and build and the instance's
   * artifacts, flavor and configuration, deployed by the engine.
   * @returns the instance id (= the v3 component id) and the deployment job id
   * @throws 404 SVCSTG.00100403 / 00100404 / 00100411; 400 SVCSTG.00100420 for a runtime
   *   OpenStage does not run; 400 SVCSTG.00100425 without a source; 400 SVCSTG.00100459 when
   *   the application has a component of that name in the environment; 409 while the
   *   component is deleted; as ComponentService.create
   */
  async createInstance(project: string, applicationId: string, componentId: string, body: CreateInstanceBodyWire, creator: string): Promise<{ instanceId: string; jobId: string }> {
    const c = await this.requireLiveComponent(project, applicationId, componentId);
    await this.getEnvironment(project, body.environment_id);
    const stack = await this.stackOf(project, c.component.body.runtime);
    const v3 = instanceToComponentBody({ body, stack, component: c.component.body });
    check(V3CreateComponentBody, v3, 'the instance');
    if (!c.stored) await this.adopt(c);
    const r = await this.v2(() => this.services.components.create(project, applicationId, v3, creator), 'ApplicationNotFound');
    const usedArtifacts = Object.values(body.artifacts ?? {}).some((a) => a.url);
    await v2Store.putLink(this.deps.db.kysely, { instanceId: r.componentId, projectId: project, componentId: c.component.id, flavorId: body.flavor_id ?? '', artifacts: body.artifacts ?? {}, artifactSource: usedArtifacts ? JSON.stringify(v3.source) : '' });
    return { instanceId: r.componentId, jobId: r.jobId };
  }

  /** A page of a component's instances and the total. @throws 404 */
  async listInstances(project: string, applicationId: string, componentId: string, query: PageQuery): Promise<{ items: V2InstanceView[]; total: number; component: V2ComponentView }> {
    const c = await this.requireComponent(project, applicationId, componentId);
    const page = paginate(
      c.instances.map((i) => ({ id: i.view.component.id, name: i.view.component.name, create_time: i.view.component.createdAtMs, update_time: i.view.component.updatedAtMs, i })),
      query,
    );
    return { items: page.items.map((x) => x.i), total: page.total, component: c };
  }

  /** One instance. @throws 404 SVCSTG.00100403 / 00100404 / 00100412 */
  async getInstance(project: string, applicationId: string, componentId: string, instanceId: string): Promise<V2InstanceView> {
    return (await this.requireInstance(project, applicationId, componentId, instanceId)).instance;
  }

  /**
   * Redeploys an instance with a new version and the fields sent (v2 ChangeInstance).
   * @returns the deployment job id @throws 404; 409 while it is deleted; as ComponentService.update
   */
  async updateInstance(project: string, applicationId: string, componentId: string, instanceId: string, body: UpdateInstanceBodyWire): Promise<string> {
    const { component, instance } = await this.requireInstance(project, applicationId, componentId, instanceId);
    const next = updateComponentBody(instance.view.component.body, body, component.stored ? component.component.body : undefined);
    check(V3UpdateComponentBody, next, 'the instance');
    const r = await this.v2(() => this.services.components.update(project, applicationId, instanceId, next), 'InstanceNotFound');
    const link = instance.link ?? { instanceId, projectId: project, componentId: component.component.id, flavorId: '', artifacts: {}, artifactSource: '' };
    const usedArtifacts = Object.values(body.artifacts ?? {}).some((a) => a.url);
    await v2Store.putLink(this.deps.db.kysely, {
      ...link,
      flavorId: body.flavor_id || link.flavorId,
      ...(usedArtifacts ? { artifacts: body.artifacts ?? {}, artifactSource: JSON.stringify(next.source) } : {}),
    });
    return r.jobId;
  }

  /** Removes an instance (its replicas and artifacts, in a job). @returns the job id @throws 404 */
  async deleteInstance(project: string, applicationId: string, componentId: string, instanceId: string): Promise<string> {
    await this.requireInstance(project, applicationId, componentId, instanceId);
    return this.v2(() => this.services.components.deleteForJob(project, applicationId, instanceId), 'InstanceNotFound');
  }

  /**
   * Runs start, stop, restart, scale (`parameters.replica`) or rollback (`parameters.version`)
   * on an instance. @returns the job id @throws 400 SVCSTG.00100418 for another action; 404;
   * as ComponentService.action
   */
  async instanceAction(project: string, applicationId: string, componentId: string, instanceId: string, body: InstanceActionBodyWire): Promise<string> {
    if (!(INSTANCE_ACTIONS as readonly string[]).includes(body.action)) throw casError('ActionNotDefined', `action '${body.action}' is not defined; the v2 instance actions are ${INSTANCE_ACTIONS.join(', ')}`);
    await this.requireInstance(project, applicationId, componentId, instanceId);
    const p = body.parameters ?? {};
    const parameters: { replica?: number; version?: string } = {};
    if (p.replica !== undefined) parameters.replica = Number(p.replica);
    if (p.version) parameters.version = p.version;
    return this.v2(() => this.services.components.action(project, applicationId, instanceId, body.action, parameters), 'InstanceNotFound');
  }

  /**
   * The versions an instance was deployed with (its deploy and upgrade records), for rollback.
   * `snapshot_order_by` create_time (default) or version. @throws 404
   */
  async listSnapshots(project: string, applicationId: string, componentId: string, instanceId: string, query: { limit?: number; offset?: number; snapshot_order_by?: string; order?: 'asc' | 'desc' }): Promise<{ items: { instanceId: string; version: string; createdAtMs: number; description: string }[]; total: number }> {
    await this.requireInstance(project, applicationId, componentId, instanceId);
    const records = await this.services.components.records(project, applicationId, instanceId, {});
    const snapshots = records.items
      .filter((r) => r.deployType === 'deploy' || r.deployType === 'upgrade')
      .map((r) => ({ id: r.jobId, name: r.version, create_time: r.beginMs, update_time: r.endMs || r.beginMs, s: { instanceId, version: r.version, createdAtMs: r.beginMs, description: `${r.deployType} of version ${r.version} (${r.status})` } }));
    const page = paginate(snapshots, { ...query, order_by: query.snapshot_order_by === 'version' ? 'name' : 'create_time' });
    return { items: page.items.map((i) => i.s), total: page.total };
  }

  // ───────────── jobs ─────────────

  /** A deployment job in the v2 format. @throws 404 SVCSTG.00100429 */
  async getJob(project: string, jobId: string, query: JobQueryWire): Promise<JobWire> {
    return jobToV2(await this.services.components.job(project, jobId), query, '');
  }

  /** The stack types a runtime of this server runs (for GET /metadata/runtimes). */
  runnableStackTypes(): readonly string[] {
    return this.services.components.stackTypes();
  }

  // ───────────── helpers ─────────────

  /**
   * An application's v2 components: the stored ones with their instances, then each v3
   * component not linked to one as a component of its own id. Links of instances that no
   * longer exist are dropped, and a component whose forced delete has removed its last
   * instance is deleted.
   * @throws 404 SVCSTG.00100403 when the application is absent
   */
  private async resolve(project: string, applicationId: string): Promise<V2ComponentView[]> {
    const db = this.deps.db.kysely;
    const app = await this.requireApplication(project, applicationId);
    const stored = await v2Store.listComponents(db, project, applicationId);
    const v3 = (await this.services.components.list(project, applicationId, {})).items;
    const links = new Map((await v2Store.listLinks(db, project)).map((l) => [l.instanceId, l]));
    const byId = new Map<string, V2ComponentView>(stored.map((c) => [c.id, { component: c, stored: true, instances: [] }]));
    const out: V2ComponentView[] = [];
    const live = new Set<string>();
    for (const view of v3) {
      live.add(view.component.id);
      const link = links.get(view.component.id);
      const owner = link ? byId.get(link.componentId) : undefined;
      if (owner) {
        owner.instances.push(await this.instanceView(view, link, owner.component, app.enterpriseProjectId));
        continue;
      }
      const synthetic = syntheticComponent(view);
      out.push({ component: synthetic, stored: false, instances: [await this.instanceView(view, undefined, synthetic, app.enterpriseProjectId)] });
    }
    const staleLinks = [...links.values()].filter((l) => byId.has(l.componentId) && !live.has(l.instanceId)).map((l) => l.instanceId);
    await v2Store.deleteLinks(db, project, staleLinks);
    for (const c of byId.values()) {
      if (c.component.deleting && c.instances.length === 0) {
        await v2Store.deleteComponent(db, project, c.component.id);
        continue;
      }
      out.push(c);
    }
    return out;
  }

  private async instanceView(view: ComponentView, link: V2InstanceLink | undefined, component: V2Component, enterpriseProjectId: string): Promise<V2InstanceView> {
    const env = await this.services.environments.get(view.component.projectId, view.component.environmentId).catch(() => undefined);
    const kubernetes = env?.resources.some((r) => r.type === 'cce' || r.type === 'custom_k8s') ?? false;
    const lastJob = view.status.lastJobId ? await this.services.components.job(view.component.projectId, view.status.lastJobId).catch(() => undefined) : undefined;
    return { view, link, componentId: component.id, componentName: component.name, platformType: kubernetes ? 'cce' : 'vmapp', lastJobStatus: lastJob?.job.status ?? '', enterpriseProjectId };
  }

  /** Stores a v3 component seen through v2 as a v2 component of the same id, linked to it. */
  private async adopt(c: V2ComponentView): Promise<void> {
    await this.insertComponent(c.component);
    const inst = c.instances[0];
    if (inst) await v2Store.putLink(this.deps.db.kysely, { instanceId: inst.view.component.id, projectId: c.component.projectId, componentId: c.component.id, flavorId: flavorOfLimits(inst.view.component.body), artifacts: {}, artifactSource: '' });
    c.stored = true;
  }

  private async insertComponent(c: V2Component): Promise<void> {
    try {
      await v2Store.createComponent(this.deps.db.kysely, c);
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw this.nameUsed(c.name);
      throw err;
    }
  }

  /** The system runtime stack a v2 runtime runs on. @throws 400 SVCSTG.00100420 */
  private async stackOf(project: string, runtime: string): Promise<{ name: string; type: string; version: string; deploy_mode: 'virtualmachine' | 'container' }> {
    const type = stackTypeOfRuntime(runtime);
    const stack = type ? (await this.services.runtimeStacks.list(project)).find((s) => s.system && s.type === type && s.status === 'Supported') : undefined;
    if (!stack) throw casError('RuntimeNotSupported', `runtime '${runtime}' is not supported; OpenStage runs ${V2_RUNTIMES.filter((r) => this.services.components.stackTypes().includes(r.stackType)).map((r) => r.name).join(', ')}`);
    return { name: stack.name, type: stack.type, version: stack.version, deploy_mode: stack.deployMode === 'container' ? 'container' : 'virtualmachine' };
  }

  private async requireApplication(project: string, applicationId: string): Promise<ApplicationView> {
    return this.v2(() => this.services.applications.get(project, applicationId), 'ApplicationNotFound');
  }

  private async requireComponent(project: string, applicationId: string, componentId: string): Promise<V2ComponentView> {
    const c = (await this.resolve(project, applicationId)).find((x) => x.component.id === componentId);
    if (!c) throw casError('ResourceNotFound', `component ${componentId} does not exist in application ${applicationId}`);
    return c;
  }

  /** As requireComponent, and not being deleted. @throws 409 SVCSTG.00100409 */
  private async requireLiveComponent(project: string, applicationId: string, componentId: string): Promise<V2ComponentView> {
    const c = await this.requireComponent(project, applicationId, componentId);
    if (c.component.deleting) throw casError('Conflict', `component ${componentId} is being deleted`);
    return c;
  }

  private async requireInstance(project: string, applicationId: string, componentId: string, instanceId: string): Promise<{ component: V2ComponentView; instance: V2InstanceView }> {
    const component = await this.requireComponent(project, applicationId, componentId);
    const instance = component.instances.find((i) => i.view.component.id === instanceId);
    if (!instance) throw casError('InstanceNotFound', `instance ${instanceId} does not exist in component ${componentId}`);
    return { component, instance };
  }

  /** Runs a v3 call, turning its not-found (401 SVCSTG.00100401) into the v2 code `code` (404). */
  private async v2<T>(call: () => Promise<T>, code: CasCode): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof OpenStageError && err.code === CasCodes.NotFound.code) throw casError(code, err.detail);
      throw err;
    }
  }

  private defaultExtra(project: string, environmentId: string): V2EnvironmentExtra {
    return { environmentId, projectId: project, alias: '', chargeMode: 'provided', baseKeys: [], optionalKeys: [] };
  }

  private nameUsed(name: string): OpenStageError {
    return casError('NameUsed', `the application has a component named "${name}"`);
  }

  private track(work: Promise<void>, what: string): void {
    const p = work.catch((err: unknown) => this.log.error({ err }, `${what} failed`)).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }
}

function toResourceBody(r: V2ResourceWire): { id: string; type: string; name?: string } {
  return { id: r.id, type: r.type, ...(r.name ? { name: r.name } : {}) };
}

function componentBody(body: CreateComponentBodyWire): V2ComponentBody {
  return {
    runtime: body.runtime,
    category: body.category,
    ...(body.sub_category ? { sub_category: body.sub_category } : {}),
    ...(body.description !== undefined ? { description: body.description } : {}),
    ...(body.source ? { source: body.source } : {}),
    ...(body.build ? { build: { parameters: body.build.parameters ?? {} } } : {}),
  };
}

/** A v3 component seen through v2: a component of its own id whose only instance it is. */
function syntheticComponent(view: ComponentView): V2Component {
  const c = view.component;
  return {
    id: c.id,
    projectId: c.projectId,
    applicationId: c.applicationId,
    name: c.name,
    body: {
      runtime: runtimeOfStack(c.body.runtime_stack),
      category: 'Common',
      ...(c.body.description ? { description: c.body.description } : {}),
      source: sourceToV2(c.body.source),
      ...(c.body.build?.parameters ? { build: { parameters: c.body.build.parameters as Record<string, unknown> } } : {}),
    },
    creator: c.creator,
    deleting: false,
    createdAtMs: c.createdAtMs,
    updatedAtMs: c.updatedAtMs,
  };
}

/**
 * Checks a v3 body built from v2 input against the v3 schema, so that what the v3 routes
 * would refuse is refused here too. @throws 400 SVCSTG.00100400 naming the field
 */
function check(schema: TSchema, value: ComponentBody, what: string): void {
  const first = Value.Errors(schema, value).First();
  if (first) throw casError('InvalidParameter', `${what} maps to a component whose ${first.path || 'body'} ${first.message}`);
}
