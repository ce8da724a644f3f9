import { randomUUID } from 'node:crypto';
import type { Executor } from '../../core/db/kysely.js';
import { AlreadyExistsError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { paginate } from '../common/page.js';
import { casError } from '../errors.js';
import type { CasDeps } from '../types.js';
import { EnvironmentIac } from './iac-service.js';
import { CseProvider, isEngineNotFound, type EngineAccess } from './providers/cse.js';
import { RdsProvider } from './providers/rds.js';
import { openParameters, prepareResources } from './resources.js';
import type { CreateEnvironmentBodyWire, ListEnvironmentsQueryWire, ResourceBodyWire, UpdateEnvironmentBodyWire } from './schemas.js';
import * as environmentStore from './store.js';
import type { Environment, EnvironmentRecord, ResourceBinding, StoredResource } from './types.js';

/**
 * Checks a cluster binding (`cce` / `custom_k8s`) when it is made: resolves when the cluster
 * answers and the credentials may deploy in the namespace; rejects with an Error whose
 * message says what failed (shown to the client). Wired by server.ts to the kubernetes
 * runtime (src/deploy/kubernetes/cluster.ts checkCluster).
 */
export type ClusterCheck = (resource: { id: string; type: string; parameters: Record<string, string> }) => Promise<void>;

/** Types of managed resource that bind a Kubernetes cluster. */
const CLUSTER_TYPES = new Set(['cce', 'custom_k8s']);

/** Fields fixed at creation: a PUT may resend them unchanged, never change them. */
const IMMUTABLE = ['deploy_mode', 'vpc_id', 'type', 'resource_create_mode'] as const;

/**
 * ServiceStage environments (servicestage.md §2): CRUD, managed resources (bindings to real
 * infrastructure, secrets sealed at rest) and the bindings the deployment engine reads.
 * Created (IaC) resources and their provisioning live in ./iac-service.ts, reached as `iac`. Each
 * write is one transaction; `cas.environment.deleted` is published after commit.
 */
export class EnvironmentService {
  private readonly log: Logger;
  /** Created (IaC) resources and their provisioning. */
  readonly iac: EnvironmentIac;

  /**
   * @param engines engine management: `cse` bindings name its engines, the `cse` provider
   *   creates and deletes them
   */
  /**
   * @param clusterCheck checks a cluster binding when it is made (none: not checked)
   */
  constructor(
    readonly deps: CasDeps,
    private readonly engines: EngineAccess,
    private readonly clusterCheck?: ClusterCheck,
  ) {
    this.log = deps.log.child({ area: 'cas', resource: 'environment' });
    const { engines: e } = deps.config;
    // An engine job's own stages are bounded (30 s + 30 s + the start timeout, or the stop
    // timeout + 60 s); the provider waits a little longer than the longer of the two.
    const engineWaitMs = (Math.max(60 + e.startTimeoutSeconds, 60 + e.stopTimeoutSeconds) + 30) * 1000;
    this.iac = new EnvironmentIac(deps, this, [new RdsProvider(deps.config.cas.rdsAdminUrl, deps.config.cas.rdsTimeoutMs), new CseProvider(engines, engineWaitMs)]);
  }

  /**
   * Creates an environment with its managed resources (servicestage.md §2 Create).
   * Defaults: deploy_mode mixed, type normal, resource_create_mode none, config_mode "",
   * enterprise_project_id "0".
   * @param creator the caller's user name
   * @throws casError EnvironmentNameUsed (400 SVCSTG.00100449) when the project has that name;
   *   InvalidParameter for a bad resource (a `cse` one naming no engine of the project, a
   *   cluster that does not answer or whose credentials may not deploy in the namespace)
   */
  async create(project: string, body: CreateEnvironmentBodyWire, creator: string): Promise<Environment> {
    const resources = prepareResources(body.resources ?? [], [], this.deps.secrets);
    await this.checkEngines(project, resources);
    await this.checkClusters(resources, []);
    const now = this.deps.clock.now();
    const record: EnvironmentRecord = {
      id: randomUUID(),
      project_id: project,
      name: body.name,
      description: body.description ?? '',
      enterprise_project_id: body.enterprise_project_id || '0',
      deploy_mode: body.deploy_mode ?? 'mixed',
      type: body.type ?? 'normal',
      resource_create_mode: body.resource_create_mode ?? 'none',
      config_mode: body.config_mode ?? '',
      vpc_id: body.vpc_id ?? '',
      labels: body.labels ?? [],
      creator,
      iac_task_status: 'Init',
      create_time: now,
      update_time: now,
    };
    await this.nameUnique(record.name, () =>
      this.deps.db.kysely.transaction().execute(async (trx) => {
        await environmentStore.createEnvironment(trx, record);
        await environmentStore.replaceResources(trx, record.id, resources);
      }),
    );
    this.log.info({ project, environmentId: record.id }, 'environment created');
    return { ...record, resources, iac_resources: [] };
  }

  /**
   * One environment with its managed and created resources.
   * @throws casError NotFound (401 SVCSTG.00100401) when the project has no such environment
   */
  async get(project: string, environmentId: string): Promise<Environment> {
    return this.load(this.deps.db.kysely, project, environmentId);
  }

  /**
   * The environments of a project (servicestage.md §2 List): exact filters on name,
   * environment_id and enterprise_project_id, then ordered and paged (§1).
   * @returns the page and the count of matching environments
   */
  async list(project: string, query: ListEnvironmentsQueryWire): Promise<{ count: number; environments: Environment[] }> {
    const db = this.deps.db.kysely;
    const records = await environmentStore.listEnvironments(db, project, { name: query.name, id: query.environment_id, enterpriseProjectId: query.enterprise_project_id });
    const page = paginate(records, query);
    const ids = page.items.map((e) => e.id);
    const resources = await environmentStore.listResources(db, ids);
    const iac = await environmentStore.listIacResources(db, ids);
    return {
      count: page.total,
      environments: page.items.map((e) => ({ ...e, resources: resources.get(e.id) ?? [], iac_resources: (iac.get(e.id) ?? []).filter((r) => !r.removed) })),
    };
  }

  /**
   * Modifies name, description and labels (absent = unchanged, `labels: []` clears).
   * deploy_mode, vpc_id, type and resource_create_mode may be resent with their current value.
   * @throws casError NotFound; InvalidParameter naming a fixed field whose value differs;
   *   EnvironmentNameUsed when the new name is taken
   */
  async update(project: string, environmentId: string, body: UpdateEnvironmentBodyWire): Promise<Environment> {
    return this.nameUnique(body.name ?? '', () =>
      this.deps.db.kysely.transaction().execute(async (trx) => {
        const env = await this.load(trx, project, environmentId);
        for (const field of IMMUTABLE) {
          const value = body[field];
          if (value !== undefined && value !== env[field]) throw casError('InvalidParameter', `${field} cannot be changed (is '${env[field]}', got '${value}')`);
        }
        const next: Environment = {
          ...env,
          name: body.name ?? env.name,
          description: body.description ?? env.description,
          labels: body.labels ?? env.labels,
          update_time: this.deps.clock.now(),
        };
        await environmentStore.updateEnvironment(trx, next);
        return next;
      }),
    );
  }

  /**
   * Deletes an environment with its managed resources, created resources and provisioning
   * records, then publishes `cas.environment.deleted`. What its created resources had made
   * (rds databases and roles) is destroyed after the commit (best effort, failures logged).
   * @throws casError NotFound; AlreadyDeployed (400 SVCSTG.00100402) while components are deployed in it
   */
  async delete(project: string, environmentId: string): Promise<void> {
    const env = await this.get(project, environmentId);
    const used = await this.deps.components.countInEnvironment(project, environmentId);
    if (used > 0) throw casError('AlreadyDeployed', `environment ${env.name} still has ${used} component(s) deployed; delete them first`);
    const all = await environmentStore.listIacResources(this.deps.db.kysely, [environmentId]);
    await this.deps.db.kysely.transaction().execute(async (trx) => {
      await this.load(trx, project, environmentId);
      await environmentStore.deleteEnvironment(trx, environmentId);
    });
    this.log.info({ project, environmentId }, 'environment deleted');
    this.deps.bus.publish('cas.environment.deleted', { project, environmentId });
    await this.iac.destroyAll({ project, user: env.creator }, all.get(environmentId) ?? []);
  }

  // ───────────────────────── managed resources ─────────────────────────

  /**
   * Replaces the whole managed resource list (`[]` detaches everything). Secret parameters
   * resent as the mask keep their stored value.
   * A `cse` resource binds an engine: its id is `default` (the built-in engine) or the id of
   * an exclusive engine of the project (engine management) that is not failed or being deleted.
   * A `cce` / `custom_k8s` resource binds a cluster: a new or changed one (kubeconfig,
   * namespace) is checked before anything is written (ClusterCheck).
   * @returns the environment after the change
   * @throws casError NotFound; InvalidParameter naming the bad resource or parameter, or the
   *   cluster check that failed
   */
  async replaceResources(project: string, environmentId: string, items: readonly ResourceBodyWire[]): Promise<Environment> {
    // Engines and clusters are checked before the transaction (network calls, other areas).
    await this.checkEngines(project, items);
    if (items.some((i) => CLUSTER_TYPES.has(i.type))) {
      const before = await this.get(project, environmentId);
      await this.checkClusters(prepareResources(items, before.resources, this.deps.secrets), before.resources);
    }
    return this.deps.db.kysely.transaction().execute(async (trx) => {
      const env = await this.load(trx, project, environmentId);
      const resources = prepareResources(items, env.resources, this.deps.secrets);
      const next: Environment = { ...env, resources, update_time: this.deps.clock.now() };
      await environmentStore.replaceResources(trx, environmentId, resources);
      await environmentStore.updateEnvironment(trx, next);
      return next;
    });
  }

  /**
   * Removes then adds managed resources (the v2 API's PATCH …/resources): the resources keyed
   * `type/id` in `remove` go, then each of `add` is bound, replacing one of the same type and
   * id. The others keep their parameters (secrets included). One transaction.
   * @returns the environment after the change
   * @throws casError NotFound; InvalidParameter naming the bad resource or parameter
   */
  async changeResources(project: string, environmentId: string, add: readonly ResourceBodyWire[], remove: readonly { type: string; id: string }[]): Promise<Environment> {
    await this.checkEngines(project, add);
    return this.deps.db.kysely.transaction().execute(async (trx) => {
      const env = await this.load(trx, project, environmentId);
      const key = (r: { type: string; id: string }) => `${r.type}/${r.id}`;
      const dropped = new Set([...remove, ...add].map(key));
      const kept = env.resources.filter((r) => !dropped.has(key(r)));
      const resources = [...kept, ...prepareResources(add, env.resources, this.deps.secrets)];
      const next: Environment = { ...env, resources, update_time: this.deps.clock.now() };
      await environmentStore.replaceResources(trx, environmentId, resources);
      await environmentStore.updateEnvironment(trx, next);
      return next;
    });
  }

  /**
   * The resources a component deployed in the environment can use, with secrets decrypted —
   * for the deployment engine only, never for the wire. Managed resources come first, in
   * list order (`source: 'managed'`, their parameters as given); provisioned created
   * resources follow (`source: 'iac'`; an rds one has host, port, db_type "postgresql",
   * db_name, db_user, password). Components turn an rds binding into RELATIONAL_DATABASE_*
   * values and a dcs one into DISTRIBUTED_CACHE_* values.
   * @throws casError NotFound
   */
  async bindings(project: string, environmentId: string): Promise<ResourceBinding[]> {
    const env = await this.get(project, environmentId);
    const managed = env.resources.map((r: StoredResource): ResourceBinding => ({ id: r.id, type: r.type, name: r.name, alias: r.alias, source: 'managed', parameters: openParameters(r, this.deps.secrets) }));
    const created: ResourceBinding[] = [];
    for (const r of env.iac_resources) {
      if (!r.sealedState) continue;
      const state = JSON.parse(this.deps.secrets.decrypt(r.sealedState)) as Record<string, string>;
      created.push({ id: r.id, type: r.type, name: r.name, alias: '', source: 'iac', parameters: state });
    }
    return [...managed, ...created];
  }

  // ───────────────────────── helpers ─────────────────────────

  /** Names of the project's environments that bind managed resource (type, id), e.g. a cse engine. */
  async boundBy(project: string, type: string, id: string): Promise<string[]> {
    return environmentStore.environmentsBinding(this.deps.db.kysely, project, type, id);
  }

  /** Loads an environment inside `db` (a transaction or the handle). @throws casError NotFound */
  async load(db: Executor, project: string, environmentId: string): Promise<Environment> {
    const record = await environmentStore.findEnvironment(db, project, environmentId);
    if (!record) throw casError('NotFound', `environment ${environmentId} does not exist`);
    const resources = (await environmentStore.listResources(db, [environmentId])).get(environmentId) ?? [];
    const iac = ((await environmentStore.listIacResources(db, [environmentId])).get(environmentId) ?? []).filter((r) => !r.removed);
    return { ...record, resources, iac_resources: iac };
  }

  /**
   * Checks that each `cse` resource names `default` or an engine of the project that can
   * serve (not CreateFailed, Deleting or DeleteFailed).
   * @throws casError InvalidParameter naming the resource
   */
  private async checkEngines(project: string, items: readonly { id: string; type: string }[]): Promise<void> {
    for (const [i, item] of items.entries()) {
      if (item.type !== 'cse' || item.id === 'default') continue;
      let status: string;
      try {
        status = (await this.engines.endpointsOf(project, item.id)).status;
      } catch (err) {
        if (isEngineNotFound(err)) throw casError('InvalidParameter', `resources[${i}]: cse engine '${item.id}' does not exist in this project (use 'default' or the id of an engine of engine management)`);
        throw err;
      }
      if (status === 'CreateFailed' || status === 'Deleting' || status === 'DeleteFailed') throw casError('InvalidParameter', `resources[${i}]: cse engine '${item.id}' is ${status} and cannot be bound`);
    }
  }

  /**
   * Checks each cluster binding of `resources` that is new or changed against `previous`
   * (same type and id with the same parameters is not checked again).
   * @throws casError InvalidParameter `resources[i]: <what failed>`
   */
  private async checkClusters(resources: readonly StoredResource[], previous: readonly StoredResource[]): Promise<void> {
    if (!this.clusterCheck) return;
    for (const [i, r] of resources.entries()) {
      if (!CLUSTER_TYPES.has(r.type)) continue;
      const parameters = openParameters(r, this.deps.secrets);
      const before = previous.find((p) => p.type === r.type && p.id === r.id);
      if (before && JSON.stringify(openParameters(before, this.deps.secrets)) === JSON.stringify(parameters)) continue;
      try {
        await this.clusterCheck({ id: r.id, type: r.type, parameters });
      } catch (err) {
        throw casError('InvalidParameter', `resources[${i}]: ${(err as Error).message}`);
      }
    }
  }

  private async nameUnique<T>(name: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw casError('EnvironmentNameUsed', `the environment name ${name} is already used in this project`);
      throw err;
    }
  }
}
