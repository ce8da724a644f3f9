import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, OpenStageError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { DeployService, EngineAction } from '../../deploy/service.js';
import type { JobService } from '../../deploy/job-service.js';
import type { JobDetail, MountedFile } from '../../deploy/types.js';
import type { ApplicationService } from '../application/service.js';
import { paginate, type PageQuery } from '../common/page.js';
import type { ConfigService } from '../config/service.js';
import type { EnvironmentService } from '../environment/service.js';
import type { RuntimeStackService } from '../runtime-stack/service.js';
import { SYSTEM_STACKS } from '../runtime-stack/system.js';
import type { RuntimeStack } from '../runtime-stack/types.js';
import { casError } from '../errors.js';
import type { ResourceBinding } from '../environment/types.js';
import type { CasDeps, ComponentRef, ComponentUsage } from '../types.js';
import { buildPlan, configMounts } from './plan.js';
import type { UpdateComponentBodyWire } from './schemas.js';
import { keepRealUrls, redactUrl } from './source-secret.js';
import * as componentStore from './store.js';
import type { Component, ComponentBody, ComponentRecord, ComponentRouteInfo, ComponentView, FilterOptions, GitCredentialsResolver, InstanceLogs, RecordJobInfo, RouteInfo, StatusView } from './types.js';


/** Actions the engine runs (servicestage.md §4 action enum); the others are 400 SVCSTG.00100418. */
const ACTIONS: readonly EngineAction[] = ['start', 'stop', 'restart', 'scale', 'rollback', 'rollback_current', 'continue_deploy'];

/** Actions on a gray release in progress, answered here (issue #18 item 6). */
const GRAY_ACTIONS: readonly string[] = ['check_gray_release', 'modify_gray_rule'];

/** What an action may carry (the SDKs' replica/hosts/version; gray rule fields for modify_gray_rule). */
export interface ActionParameters {
  replica?: number;
  version?: string;
  rules?: NonNullable<NonNullable<ComponentBody['deploy_strategy']>['gray_release']>['rules'];
  rule_match_mode?: string;
  first_batch_weight?: number;
}

/** Record types whose success changes the running version. */
const VERSION_SETTING = new Set(['deploy', 'upgrade', 'rollback', 'rollback_current']);

/** Other services a ComponentService uses, built in server.ts. */
export interface ComponentServices {
  applications: ApplicationService;
  environments: EnvironmentService;
  configs: ConfigService;
  deploy: DeployService;
  jobs: JobService;
  /** JVM options the environment's add-ons add to Java and Tomcat components (sermantInjector's -javaagent). */
  javaAgentOptions?: (project: string, environmentId: string) => Promise<string[]>;
  /** The registry/config-center address of a CSE engine (an environment's cse binding id), for PAAS_CSE_*_ENDPOINT. */
  engineEndpoint?: (project: string, engineId: string) => Promise<string | undefined>;
  /** The runtime stacks components name (system and the project's custom ones). */
  stacks: Pick<RuntimeStackService, 'findByName'>;
}

/**
 * ServiceStage components (servicestage.md §4, §4.1, §4.2, §5) on the deployment engine
 * (src/deploy): create and modify validate the body, build a ComponentPlan (plan.ts) and
 * hand it to DeployService, answering `{component_id, job_id}` at once; the job runs the
 * pipeline. Actions are the engine's; delete removes the replicas in a job and the record
 * when it ends (GET keeps answering, status DELETING, until then). Each deployment or
 * action leaves a record keyed by its job.
 *
 * - A missing application, environment or component (or a component of another
 *   application) is 401 SVCSTG.00100401 (§12.1).
 * - Names are unique per application and environment: 400 SVCSTG.00100459.
 * - A runtime stack type or source kind the process runtime cannot run is 400
 *   SVCSTG.00100420 at create/modify time (Docker, kind image), and so is a runtime stack
 *   that does not exist in the project (system or custom, by name, type and version).
 * - After a failed deployment the stored body is set back to what runs (settleBody).
 * - The engine's own 400s (no artifact for a rollback target, nothing waiting for
 *   continue_deploy, no deployed version) pass through.
 * - It also answers the ComponentUsage questions of the other resources.
 */
export class ComponentService implements ComponentUsage {
  private readonly log: Logger;
  private serverUrl = '';
  private gitCredentials: GitCredentialsResolver | undefined;
  private routes: { views(project: string, componentId: string): RouteInfo[] } | undefined;

  constructor(
    private readonly deps: CasDeps,
    private readonly services: ComponentServices,
  ) {
    this.log = deps.log.child({ area: 'cas', resource: 'component' });
    services.deploy.onComponentJobEnd((project, componentId, jobId, status) => this.settleBody(project, componentId, { jobId, status }));
    // The removal job runs on the server that supervises the component (with several servers
    // maybe not this one): the record goes there.
    services.deploy.onComponentRemoved(async (project, componentId) => {
      await this.deps.db.kysely.transaction().execute((trx) => componentStore.deleteComponent(trx, project, componentId));
      this.deps.bus.publish('cas.component.changed', { project, componentId });
      this.log.info({ project, componentId }, 'component removed');
    });
  }

  /** The URL this server listens on (`http://host:port`), given to components as PAAS_CSE_SC_ENDPOINT / PAAS_CSE_CC_ENDPOINT. */
  setServerUrl(url: string): void {
    this.serverUrl = url;
  }

  /**
   * Sets how `source.repo_auth` becomes clone credentials (the Git area's authorizations).
   * Until set, `repo_auth` is stored and ignored (public repositories only).
   */
  setGitCredentials(resolver: GitCredentialsResolver): void {
    this.gitCredentials = resolver;
  }

  /** Sets where a component's stable routes come from (src/routes), shown in its status. */
  setRoutes(routes: { views(project: string, componentId: string): RouteInfo[] }): void {
    this.routes = routes;
  }

  /**
   * Components with their application and environment names, for the stable routes
   * (src/routes): every project's, or the one named (undefined when it is gone).
   */
  async routeInfo(): Promise<ComponentRouteInfo[]>;
  async routeInfo(project: string, componentId: string): Promise<ComponentRouteInfo | undefined>;
  async routeInfo(project?: string, componentId?: string): Promise<ComponentRouteInfo[] | ComponentRouteInfo | undefined> {
    const found = componentId !== undefined ? await componentStore.findComponent(this.deps.db.kysely, this.deps.secrets, project!, componentId) : undefined;
    const list = componentId !== undefined ? (found ? [found] : []) : await componentStore.listComponents(this.deps.db.kysely, this.deps.secrets, undefined);
    const out: ComponentRouteInfo[] = [];
    for (const c of list) {
      const [app, env] = await Promise.all([this.services.applications.get(c.projectId, c.applicationId).catch(() => undefined), this.services.environments.get(c.projectId, c.environmentId).catch(() => undefined)]);
      out.push({ project: c.projectId, componentId: c.id, name: c.name, applicationId: c.applicationId, applicationName: app?.name ?? '', environmentName: env?.name ?? '', createdAtMs: c.createdAtMs, externalAccesses: c.body.external_accesses ?? [] });
    }
    return componentId !== undefined ? out[0] : out;
  }

  /**
   * Seals source credentials stored in plain text by an earlier version (issue #15 M5), then
   * resumes removals a previous run left unfinished. Call after DeployService.start().
   */
  async start(): Promise<void> {
    const sealed = await componentStore.sealStoredCredentials(this.deps.db.kysely, this.deps.secrets);
    if (sealed > 0) this.log.info({ rows: sealed }, 'source URL credentials sealed at rest');
    for (const c of await componentStore.listDeleting(this.deps.db.kysely, this.deps.secrets)) {
      this.log.info({ project: c.projectId, componentId: c.id }, 'resuming component removal');
      await this.startRemoval(c);
    }
  }

  /** The runtime stack types some runtime of this server builds and runs. */
  stackTypes(): readonly string[] {
    return this.services.deploy.stackTypes;
  }

  // ───────────── CRUD ─────────────

  /**
   * Creates a component under an application and deploys it (servicestage.md §4 Create).
   * @returns the new component id and the deployment job id
   * @throws 401 SVCSTG.00100401 when the application or environment is absent; 400
   *   SVCSTG.00100420 for a stack type or source kind that cannot run here, or a runtime
   *   stack the project does not have; 400
   *   SVCSTG.00100400 for a bad source, storage or repo_auth; 400 SVCSTG.00100459 when the
   *   name is used in the application and environment
   */
  async create(project: string, applicationId: string, body: ComponentBody, creator: string): Promise<{ componentId: string; jobId: string }> {
    const app = await this.services.applications.get(project, applicationId);
    const env = await this.services.environments.get(project, body.environment_id);
    const normalized = this.checkBody(body);
    const now = this.deps.clock.now();
    const component: Component = { id: randomUUID(), projectId: project, applicationId, environmentId: env.id, name: body.name, body: normalized, creator, deleteJobId: '', createdAtMs: now, updatedAtMs: now };
    const plan = await this.plan(component, app.name, env.name);
    try {
      await componentStore.createComponent(this.deps.db.kysely, this.deps.secrets, component);
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw casError('NameUsed', `component name "${body.name}" is already used in application ${applicationId} and environment ${env.id}`);
      throw err;
    }
    let jobId: string;
    try {
      jobId = await this.services.deploy.deploy(plan);
    } catch (err) {
      await componentStore.deleteComponent(this.deps.db.kysely, project, component.id);
      throw err;
    }
    await this.record(component, jobId, 'deploy', normalized.version, { action: 'deploy', version: normalized.version, replica: normalized.replica });
    await this.settleIfFailed(project, component.id, jobId);
    this.deps.bus.publish('cas.component.changed', { project, componentId: component.id });
    this.log.info({ project, componentId: component.id, jobId }, 'component created');
    return { componentId: component.id, jobId };
  }

  /** One component with its status (§4.2). @throws 401 SVCSTG.00100401 when absent or not under the application */
  async get(project: string, applicationId: string, componentId: string): Promise<ComponentView> {
    const c = await this.require(project, applicationId, componentId);
    return (await this.views(project, [c]))[0]!;
  }

  /**
   * A page of components: an application's (when `applicationId` is given; 401 when it is
   * absent) or the project's, filtered by `application_name` / `component_name` (substring,
   * case-sensitive).
   */
  async list(project: string, applicationId: string | undefined, query: PageQuery & { application_name?: string; component_name?: string }): Promise<{ items: ComponentView[]; total: number }> {
    if (applicationId !== undefined) await this.services.applications.get(project, applicationId);
    const all = await this.views(project, await componentStore.listComponents(this.deps.db.kysely, this.deps.secrets, project, applicationId));
    const kept = all.filter((v) => (query.application_name === undefined || v.applicationName.includes(query.application_name)) && (query.component_name === undefined || v.component.name.includes(query.component_name)));
    const page = paginate(
      kept.map((v) => ({ id: v.component.id, name: v.component.name, create_time: v.component.createdAtMs, update_time: v.component.updatedAtMs, v })),
      query,
    );
    return { items: page.items.map((i) => i.v), total: page.total };
  }

  /**
   * Upgrades a component with a full body (servicestage.md §4 Modify): a new deployment job.
   * `name` and `runtime_stack` must be resent unchanged; `environment_id`, when sent, too.
   * @returns the job id
   * @throws 401 SVCSTG.00100401 when absent; 400 SVCSTG.00100400 for a changed name, stack
   *   or environment; 409 SVCSTG.00100409 while it is being deleted; as create for the body
   */
  async update(project: string, applicationId: string, componentId: string, body: UpdateComponentBodyWire): Promise<{ componentId: string; jobId: string }> {
    const c = await this.requireLive(project, applicationId, componentId);
    if (body.name !== c.name) throw casError('InvalidParameter', `name cannot change (it is "${c.name}")`);
    if (body.environment_id !== undefined && body.environment_id !== c.environmentId) throw casError('InvalidParameter', `environment_id cannot change (it is ${c.environmentId})`);
    const before = c.body.runtime_stack;
    // A body read back from GET carries redacted source URLs: they stand for the stored ones.
    const full: ComponentBody = keepRealUrls({ ...body, environment_id: c.environmentId }, c.body);
    const normalized = this.checkBody(full);
    const after = normalized.runtime_stack;
    if (after.name !== before.name || after.type !== before.type || after.version !== before.version || (after.deploy_mode ?? before.deploy_mode) !== before.deploy_mode) {
      throw casError('InvalidParameter', `runtime_stack cannot change (it is ${before.name} ${before.type} ${before.version})`);
    }
    const app = await this.services.applications.get(project, applicationId);
    const env = await this.services.environments.get(project, c.environmentId);
    const next: Component = { ...c, body: normalized, updatedAtMs: this.deps.clock.now() };
    const plan = await this.plan(next, app.name, env.name);
    const jobId = await this.services.deploy.deploy(plan);
    // The record first: a body settled back (settleBody) after a failure is never overwritten by one it did not see.
    await this.record(next, jobId, 'upgrade', normalized.version, { action: 'upgrade', version: normalized.version, replica: normalized.replica });
    await componentStore.updateComponent(this.deps.db.kysely, this.deps.secrets, next);
    await this.settleIfFailed(project, componentId, jobId);
    this.deps.bus.publish('cas.component.changed', { project, componentId });
    return { componentId, jobId };
  }

  /**
   * Deletes a component (servicestage.md §4 Delete): the engine stops and removes its
   * replicas and artifacts in a job, then the record and its deployment records go.
   * Deleting again while that job runs changes nothing; after a failed removal it retries.
   * @returns the component id @throws 401 SVCSTG.00100401 when absent
   */
  async delete(project: string, applicationId: string, componentId: string): Promise<string> {
    await this.deleteForJob(project, applicationId, componentId);
    return componentId;
  }

  /**
   * As delete, answering the removal job's id (the v2 API's instance delete answers it).
   * @returns the id of the job removing the component (the running one when a removal runs)
   * @throws 401 SVCSTG.00100401 when absent
   */
  async deleteForJob(project: string, applicationId: string, componentId: string): Promise<string> {
    const c = await this.require(project, applicationId, componentId);
    if (c.deleteJobId) {
      const job = await this.services.jobs.get(project, c.deleteJobId).catch(() => undefined);
      if (job?.job.status === 'RUNNING') return c.deleteJobId;
    }
    return this.startRemoval(c);
  }

  /**
   * A deployment job of the project with its tasks (servicestage.md §5), for the views that
   * show jobs in another wire format (the v2 API).
   * @throws 404 SVCSTG.00100429 when the project has no such job
   */
  async job(project: string, jobId: string): Promise<JobDetail> {
    return this.services.jobs.get(project, jobId);
  }

  /**
   * Runs an action (servicestage.md §4 Deliver task): start, stop, restart, scale
   * (`parameters.replica`), rollback (`parameters.version`), rollback_current,
   * continue_deploy. A scale keeps the new replica count in the stored body; a rollback
   * restores the body the target version was deployed with, at the current replica count.
   * @returns the job id (continue_deploy: the waiting release's)
   * @throws 400 SVCSTG.00100418 for any other action; 401 when absent; 409 while deleted;
   *   the engine's 400s (no deployed version, no artifact for the target, nothing waiting)
   */
  async action(project: string, applicationId: string, componentId: string, action: string, parameters: ActionParameters = {}): Promise<string> {
    if (GRAY_ACTIONS.includes(action)) return this.grayAction(project, applicationId, componentId, action, parameters);
    if (!(ACTIONS as readonly string[]).includes(action)) throw casError('ActionNotDefined', `action '${action}' is not defined; OpenStage runs ${[...ACTIONS, ...GRAY_ACTIONS].join(', ')}`);
    const c = await this.requireLive(project, applicationId, componentId);
    const engineAction = action as EngineAction;
    if (engineAction === 'scale' && parameters.replica === undefined) throw casError('InvalidParameter', 'parameters.replica is required for scale');
    if (engineAction === 'rollback' && !parameters.version) throw casError('InvalidParameter', 'parameters.version is required for rollback');
    let version = this.services.deploy.runtime(project, componentId)?.version || c.body.version;
    if (engineAction === 'rollback') version = parameters.version!;
    // During a gray release: the stable version, never the gray one.
    if (engineAction === 'rollback_current') version = (await this.services.deploy.rollbackCurrentTarget(project, componentId)) ?? version;
    const engineParameters: { replica?: number; version?: string } = {};
    if (parameters.replica !== undefined) engineParameters.replica = parameters.replica;
    if (parameters.version !== undefined) engineParameters.version = parameters.version;
    const jobId = await this.services.deploy.action(project, componentId, engineAction, engineParameters);
    if (engineAction === 'continue_deploy') return jobId;
    let body: ComponentBody = { ...c.body };
    if (engineAction === 'scale') body.replica = parameters.replica!;
    if (engineAction === 'rollback' || engineAction === 'rollback_current') {
      // The body that version was deployed with (the engine runs its stored plan), at the
      // component's current replica count.
      const stored = await componentStore.findVersionBody(this.deps.db.kysely, this.deps.secrets, project, componentId, version);
      if (stored) body = { ...stored, replica: c.body.replica };
      body.version = version;
    }
    const next: Component = { ...c, body, updatedAtMs: this.deps.clock.now() };
    await this.record(next, jobId, action, version, { action, version, replica: body.replica, ...(parameters.replica !== undefined ? { parameters } : parameters.version ? { parameters } : {}) });
    await componentStore.updateComponent(this.deps.db.kysely, this.deps.secrets, next);
    await this.settleIfFailed(project, componentId, jobId);
    this.deps.bus.publish('cas.component.changed', { project, componentId });
    return jobId;
  }

  /**
   * check_gray_release and modify_gray_rule (servicestage.md §4 action enum) on the gray
   * release waiting for continue_deploy: the check changes nothing; modify_gray_rule stores
   * `parameters.rules`, `rule_match_mode` and `first_batch_weight` (those given) in the
   * component's `deploy_strategy.gray_release` — rules are kept and shown, not enforced.
   * Neither adds a record.
   * @returns the waiting gray release's job id
   * @throws 400 SVCSTG.00100400 when no gray release of the component is in progress; 401 when absent
   */
  private async grayAction(project: string, applicationId: string, componentId: string, action: string, parameters: ActionParameters): Promise<string> {
    const c = await this.requireLive(project, applicationId, componentId);
    const runtime = this.services.deploy.runtime(project, componentId);
    if (runtime?.status !== 'GRAYING') throw casError('InvalidParameter', `${action}: no gray release of component ${c.body.name} is in progress`);
    if (action === 'modify_gray_rule') {
      const strategy = c.body.deploy_strategy ?? { type: 'GrayRelease' as const };
      const gray = { ...strategy.gray_release };
      if (parameters.rules !== undefined) gray.rules = parameters.rules;
      if (parameters.rule_match_mode !== undefined) gray.rule_match_mode = parameters.rule_match_mode;
      if (parameters.first_batch_weight !== undefined) gray.first_batch_weight = parameters.first_batch_weight;
      const next: Component = { ...c, body: { ...c.body, deploy_strategy: { ...strategy, gray_release: gray } }, updatedAtMs: this.deps.clock.now() };
      await componentStore.updateComponent(this.deps.db.kysely, this.deps.secrets, next);
    }
    return runtime.lastJobId;
  }

  /**
   * The component's deployment records (servicestage.md §4 Records), newest first by
   * default (paged like every list; order_by name sorts by deploy type).
   * @throws 401 SVCSTG.00100401 when absent
   */
  async records(project: string, applicationId: string, componentId: string, query: PageQuery): Promise<{ items: (ComponentRecord & { currentUsed: boolean })[]; total: number }> {
    await this.require(project, applicationId, componentId);
    const records = await this.refreshRecords(project, componentId);
    const running = this.services.deploy.runtime(project, componentId)?.version ?? '';
    const current = records.filter((r) => r.status === 'SUCCEEDED' && VERSION_SETTING.has(r.deployType)).sort((a, b) => b.beginMs - a.beginMs || (a.jobId < b.jobId ? 1 : -1))[0];
    const page = paginate(
      records.map((r) => ({ id: r.jobId, name: r.deployType, create_time: r.beginMs, update_time: r.endMs || r.beginMs, r })),
      query,
    );
    return { items: page.items.map(({ r }) => ({ ...r, currentUsed: current !== undefined && r.jobId === current.jobId && r.version === running })), total: page.total };
  }

  /** Refresh (servicestage.md §4): brings the records up to date with their jobs. @throws 401 SVCSTG.00100401 when absent */
  async refresh(project: string, applicationId: string, componentId: string): Promise<void> {
    await this.require(project, applicationId, componentId);
    await this.refreshRecords(project, componentId);
  }

  /**
   * OpenStage's log API: the last `lines` lines of each replica's log.
   * @throws 401 SVCSTG.00100401 when absent
   */
  async logs(project: string, applicationId: string, componentId: string, lines: number): Promise<InstanceLogs[]> {
    await this.require(project, applicationId, componentId);
    return this.services.deploy.logs(project, componentId, lines);
  }

  /**
   * Opens a follow of the component's replica logs (OpenStage's log API with `follow=true`):
   * the function returned emits the last `lines` lines of each running replica, then each new
   * line, until `signal` aborts.
   * @throws 401 SVCSTG.00100401 when absent (before anything is streamed)
   */
  async logFollow(project: string, applicationId: string, componentId: string): Promise<(options: { lines: number; signal: AbortSignal }, emit: (line: { instanceId: string; version: string; line: string }) => void) => Promise<void>> {
    await this.require(project, applicationId, componentId);
    return (options, emit) => this.services.deploy.followLogs(project, componentId, options, emit);
  }

  /** GET /components/filterOptions: applications and environments that have components, and their enterprise projects. */
  async filterOptions(project: string): Promise<FilterOptions> {
    const views = await this.views(project, await componentStore.listComponents(this.deps.db.kysely, this.deps.secrets, project));
    const apps = new Map<string, string>();
    const envs = new Map<string, string>();
    const eps = new Set<string>();
    for (const v of views) {
      apps.set(v.component.applicationId, v.applicationName);
      envs.set(v.component.environmentId, v.environmentName);
    }
    for (const id of apps.keys()) {
      const app = await this.services.applications.get(project, id).catch(() => undefined);
      if (app) eps.add(app.enterpriseProjectId);
    }
    const byLabel = (a: { label: string }, b: { label: string }) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0);
    return {
      applications: [...apps].map(([id, label]) => ({ id, label })).sort(byLabel),
      environments: [...envs].map(([id, label]) => ({ id, label })).sort(byLabel),
      enterpriseProjects: [...eps].sort(),
    };
  }

  // ───────────── ComponentUsage ─────────────

  async countInEnvironment(project: string, environmentId: string): Promise<number> {
    return componentStore.countComponents(this.deps.db.kysely, project, { environmentId });
  }

  async countInApplication(project: string, applicationId: string): Promise<number> {
    return componentStore.countComponents(this.deps.db.kysely, project, { applicationId });
  }

  async countOnRuntimeStack(project: string, stack: { name: string; type: string; version: string }): Promise<number> {
    return componentStore.countComponents(this.deps.db.kysely, project, { stack: { name: stack.name, type: stack.type, version: stack.version } });
  }

  async mountsOfConfig(project: string, configId: string): Promise<ComponentRef[]> {
    const all = await componentStore.listComponents(this.deps.db.kysely, this.deps.secrets, project);
    return all
      .filter((c) => configMounts(c).some((m) => m.configId === configId))
      .sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1))
      .map((c) => ({ environment_id: c.environmentId, application_id: c.applicationId, component_id: c.id, component_name: c.name }));
  }

  // ───────────── helpers ─────────────

  /**
   * Checks what the schema cannot: the stack type and source kind can run here, the source
   * names what it needs, config storages name existing files (checked in plan()).
   * @returns the body with the stack type in its canonical spelling
   */
  private checkBody(body: ComponentBody): ComponentBody {
    const wanted = body.runtime_stack.type;
    const known = this.services.deploy.stackTypes;
    const type = known.find((t) => t.toLowerCase() === wanted.toLowerCase());
    if (!type) throw casError('RuntimeNotSupported', `runtime_stack.type '${wanted}' is not served by any runtime; supported: ${known.join(', ')}`);
    const s = body.source;
    if (s.kind === 'image' && !s.url) throw casError('InvalidParameter', 'source.url (the image reference) is required for kind image');
    if (s.kind === 'code' && !s.repo_url && !s.url) throw casError('InvalidParameter', 'source.repo_url (or source.url) is required for kind code');
    if (s.kind === 'package') {
      if (!s.url) throw casError('InvalidParameter', 'source.url is required for kind package');
      if (!/^(https?|file):\/\//i.test(s.url)) throw casError('InvalidParameter', 'source.url must be an http://, https:// or file:// URL for kind package');
    }
    (body.storages ?? []).forEach((st, i) => {
      if ((st.type === 'ConfigMap' || st.type === 'Secret') && !st.parameters?.config_id && !st.parameters?.name) throw casError('InvalidParameter', `storages[${i}].parameters.config_id (or parameters.name) must name a config file for a ${st.type} storage`);
    });
    const paths = new Set<string>();
    for (const m of configMounts({ body })) {
      if (paths.has(m.path)) throw casError('InvalidParameter', `storages[${m.storage}] mounts a second file at ${m.path}`);
      paths.add(m.path);
    }
    return { ...body, runtime_stack: { ...body.runtime_stack, type } };
  }

  /**
   * The engine plan of a component: its runtime, variables, bindings, config files and
   * credentials resolved now.
   * @throws 400 SVCSTG.00100420 when the environment's bindings or the stack choose a runtime
   *   that is not available here (an ecs host other than this machine, a container runtime
   *   without podman…), naming the binding or the runtime
   */
  private async plan(c: Component, applicationName: string, environmentName: string) {
    const stack = await this.stackOf(c.projectId, c.body.runtime_stack);
    const bindings = await this.services.environments.bindings(c.projectId, c.environmentId);
    const choice = this.services.deploy.chooseRuntime({ stackType: c.body.runtime_stack.type, sourceKind: c.body.source.kind, bindings });
    if ('refused' in choice) throw casError('RuntimeNotSupported', choice.refused);
    const { runtime } = choice;
    const files: MountedFile[] = [];
    for (const m of configMounts(c)) {
      let content: string;
      try {
        content = (await this.services.configs.getConfig(c.projectId, m.configId)).content;
      } catch (err) {
        if (err instanceof OpenStageError && err.status === 404) throw casError('InvalidParameter', `storages[${m.storage}]: config file ${m.configId} does not exist`);
        throw err;
      }
      files.push({ path: m.path, content, ...(m.secret ? { secret: true } : {}) });
    }
    let credentials: { username: string; password: string } | undefined;
    const auth = c.body.source.repo_auth;
    if (auth && this.gitCredentials) {
      credentials = await this.gitCredentials(c.projectId, auth);
      if (!credentials) throw casError('InvalidParameter', `source.repo_auth: there is no git authorization named "${auth}"`);
    }
    const plan = buildPlan({
      component: c,
      applicationName,
      environmentName,
      appEnv: await this.services.applications.envVars(c.projectId, c.applicationId, c.environmentId),
      bindings: await this.withEngineEndpoints(c.projectId, bindings),
      runtime,
      files,
      serverUrl: this.serverUrl,
      region: this.deps.config.cas.region,
      ...(credentials ? { credentials } : {}),
      stack: { name: stack.name, system: stack.system, spec: stack.spec },
    });
    if ((plan.stackType === 'Java' || plan.stackType === 'Tomcat') && this.services.javaAgentOptions) {
      const agent = await this.services.javaAgentOptions(c.projectId, c.environmentId);
      if (agent.length > 0) plan.jvmOpts = [...agent, ...(plan.jvmOpts ?? [])];
    }
    return plan;
  }

  /**
   * The runtime stack `runtime_stack` names: a system stack or a custom stack of the project
   * with that name, type and version (servicestage.md §6).
   * @throws 400 SVCSTG.00100420 naming what exists when there is no such stack
   */
  private async stackOf(project: string, ref: ComponentBody['runtime_stack']): Promise<RuntimeStack> {
    const stack = await this.services.stacks.findByName(project, ref.name);
    const named = `runtime_stack ${JSON.stringify(ref.name)} (${ref.type} ${ref.version})`;
    if (!stack) throw casError('RuntimeNotSupported', `${named} does not exist in this project: name a system stack (${SYSTEM_STACKS.map((s) => s.name).join(', ')}) or a custom stack of the project (GET /v3/{project_id}/cas/runtimestacks)`);
    if (stack.type.toLowerCase() !== ref.type.toLowerCase() || stack.version !== ref.version) throw casError('RuntimeNotSupported', `${named} does not exist in this project: the stack of that name is ${stack.type} ${stack.version}`);
    return stack;
  }

  /**
   * After a job of the component ended: when the newest deployment (deploy, upgrade or
   * rollback record) failed, the stored body becomes the one of the version that runs, at the
   * engine's replica count (issue #18 item 18: GET says what runs, not what was asked for).
   * A newer request pending, a first deployment that never ran, or a body already right: unchanged.
   * @param ended a job that has just ended (its outcome may not be written yet: the engine
   *   calls this from a failed job's revert task, before the job's status says FAILED)
   */
  async settleBody(project: string, componentId: string, ended?: { jobId: string; status: 'SUCCEEDED' | 'FAILED' }): Promise<void> {
    const c = await componentStore.findComponent(this.deps.db.kysely, this.deps.secrets, project, componentId);
    const rt = this.services.deploy.runtime(project, componentId);
    if (!c || c.deleteJobId || !rt?.version) return;
    const records = (await this.refreshRecords(project, componentId)).sort((a, b) => b.beginMs - a.beginMs || (a.jobId < b.jobId ? 1 : -1));
    for (const r of records) if (r.jobId === ended?.jobId) r.status = ended.status;
    const newest = records.find((r) => VERSION_SETTING.has(r.deployType));
    if (newest?.status !== 'FAILED') return;
    // The body the running version was deployed with: its newest deploy/upgrade that did not fail.
    const ran = await componentStore.findVersionBody(this.deps.db.kysely, this.deps.secrets, project, componentId, rt.version, records.filter((r) => r.status === 'FAILED').map((r) => r.jobId));
    const body: ComponentBody = { ...(ran ?? c.body), version: rt.version, replica: rt.replica };
    if (JSON.stringify(body) === JSON.stringify(c.body)) return;
    // Written only if that failed deployment is still the newest one (a request made
    // meanwhile inserts its record before it writes its body).
    const written = await this.deps.db.kysely.transaction().execute(async (trx) => {
      if ((await componentStore.newestRecordOf(trx, project, componentId, [...VERSION_SETTING]))?.jobId !== newest.jobId) return false;
      return componentStore.updateComponent(trx, this.deps.secrets, { ...c, body, updatedAtMs: this.deps.clock.now() });
    });
    if (!written) return;
    this.log.info({ project, componentId, version: rt.version, failedJobId: newest.jobId }, 'component body set back to the version that runs');
  }

  /**
   * Gives each cse binding without an `endpoint` parameter the address of the engine it names
   * (engine management; `default` is this server), so components of an environment bound to
   * an exclusive engine register there.
   */
  private async withEngineEndpoints(project: string, bindings: ResourceBinding[]): Promise<ResourceBinding[]> {
    const resolve = this.services.engineEndpoint;
    if (!resolve) return bindings;
    const out: ResourceBinding[] = [];
    for (const b of bindings) {
      if (b.type !== 'cse' || b.parameters.endpoint) {
        out.push(b);
        continue;
      }
      const endpoint = await resolve(project, b.id).catch(() => undefined);
      out.push(endpoint ? { ...b, parameters: { ...b.parameters, endpoint } } : b);
    }
    return out;
  }

  /**
   * Redeploys, one job each, the components whose source is a pushed repository branch
   * (Git webhooks and pushes to hosted repositories, issue #7): source kind `code`, the same
   * repository (clone URLs compared without a trailing `/` or `.git`, case-insensitively for
   * the host) and `repo_ref` equal to the branch. Components being deleted are skipped.
   * @returns the jobs started, by component id
   */
  async redeployOnPush(event: { project: string; cloneUrl: string; branch: string; sha: string }): Promise<{ componentId: string; jobId: string }[]> {
    const target = sameRepo(event.cloneUrl);
    const started: { componentId: string; jobId: string }[] = [];
    for (const c of await componentStore.listComponents(this.deps.db.kysely, this.deps.secrets, event.project)) {
      const source = c.body.source;
      if (c.deleteJobId || source.kind !== 'code' || (source.repo_ref ?? '') !== event.branch) continue;
      if (sameRepo(source.repo_url || source.url || '') !== target) continue;
      try {
        const app = await this.services.applications.get(c.projectId, c.applicationId);
        const env = await this.services.environments.get(c.projectId, c.environmentId);
        const jobId = await this.services.deploy.deploy(await this.plan(c, app.name, env.name));
        await this.record(c, jobId, 'upgrade', c.body.version, { action: 'redeploy on push', version: c.body.version, branch: event.branch, sha: event.sha });
        this.log.info({ project: c.projectId, componentId: c.id, jobId, sha: event.sha }, 'component redeployed after a push');
        started.push({ componentId: c.id, jobId });
      } catch (err) {
        this.log.warn({ err, project: c.projectId, componentId: c.id }, 'redeploy after a push failed to start');
      }
    }
    return started;
  }

  /** Submits the engine's removal job and keeps its id on the record. @returns the job id */
  private async startRemoval(c: Component): Promise<string> {
    const jobId = await this.services.deploy.remove(c.projectId, c.id);
    await componentStore.updateComponent(this.deps.db.kysely, this.deps.secrets, { ...c, deleteJobId: jobId, updatedAtMs: this.deps.clock.now() });
    return jobId;
  }

  private async record(c: Component, jobId: string, deployType: string, version: string, description: Record<string, unknown>): Promise<void> {
    const gray = c.body.deploy_strategy?.type === 'GrayRelease' ? c.body.deploy_strategy.gray_release : undefined;
    const jobInfo: RecordJobInfo = {
      sourceUrl: redactUrl(c.body.source.repo_url || c.body.source.url || ''),
      firstBatchWeight: gray?.first_batch_weight ?? 0,
      firstBatchReplica: gray?.first_batch_replica ?? 0,
      replica: c.body.replica,
      remainingBatch: gray?.remaining_batch ?? 0,
    };
    const body = deployType === 'deploy' || deployType === 'upgrade' ? c.body : undefined;
    // Each build has its own revision, also when the version stays (a redeploy on push): the
    // version and the job's short id, as the artifact directory is named (src/deploy).
    const described = body ? { ...description, revision: `${version}-${jobId.slice(3, 11)}` } : description;
    await componentStore.insertRecord(this.deps.db.kysely, this.deps.secrets, { jobId, projectId: c.projectId, componentId: c.id, deployType, version, description: described, jobInfo, status: 'RUNNING', beginMs: this.deps.clock.now(), endMs: 0, ...(body ? { body } : {}) });
  }

  /** settleBody for a job that may have failed before its record and body were written (the engine's call came too early). */
  private async settleIfFailed(project: string, componentId: string, jobId: string): Promise<void> {
    if ((await this.services.jobs.get(project, jobId).catch(() => undefined))?.job.status === 'FAILED') await this.settleBody(project, componentId);
  }

  /** Records with the final status of their ended jobs written back. */
  private async refreshRecords(project: string, componentId: string): Promise<ComponentRecord[]> {
    const records = await componentStore.listRecords(this.deps.db.kysely, project, componentId);
    for (const r of records) {
      if (r.status !== 'RUNNING') continue;
      const job = await this.services.jobs.get(project, r.jobId).catch(() => undefined);
      if (!job || job.job.status === 'RUNNING') continue;
      r.status = job.job.status;
      r.endMs = job.job.updatedAtMs;
      await componentStore.finishRecord(this.deps.db.kysely, r.jobId, r.status, r.endMs);
    }
    return records;
  }

  /** Views of components with names and status; names are looked up once per call. */
  private async views(project: string, components: Component[]): Promise<ComponentView[]> {
    const appNames = new Map<string, string>();
    const envNames = new Map<string, string>();
    const out: ComponentView[] = [];
    for (const c of components) {
      if (!appNames.has(c.applicationId)) appNames.set(c.applicationId, (await this.services.applications.get(project, c.applicationId).catch(() => undefined))?.name ?? '');
      if (!envNames.has(c.environmentId)) envNames.set(c.environmentId, (await this.services.environments.get(project, c.environmentId).catch(() => undefined))?.name ?? '');
      out.push({ component: c, applicationName: appNames.get(c.applicationId)!, environmentName: envNames.get(c.environmentId)!, status: this.statusOf(c) });
    }
    return out;
  }

  private statusOf(c: Component): StatusView {
    const rt = this.services.deploy.runtime(c.projectId, c.id);
    const artifact = { type: c.body.source.kind, url: redactUrl(c.body.source.repo_url || c.body.source.url || '') };
    const instances = (rt?.replicas ?? []).map((r) => ({ instanceId: r.instanceId, version: r.version, port: r.port, state: r.state, ready: r.ready, restarts: r.restarts }));
    return {
      componentStatus: c.deleteJobId ? 'DELETING' : (rt?.status ?? 'PENDING'),
      replica: rt?.replica ?? c.body.replica,
      availableReplica: rt?.availableReplica ?? 0,
      failDetail: rt?.failDetail ?? '',
      lastJobId: c.deleteJobId || rt?.lastJobId || '',
      artifact,
      instances,
      routes: this.routes?.views(c.projectId, c.id) ?? [],
    };
  }

  private async require(project: string, applicationId: string, componentId: string): Promise<Component> {
    const c = await componentStore.findComponent(this.deps.db.kysely, this.deps.secrets, project, componentId);
    if (!c || c.applicationId !== applicationId) throw casError('NotFound', `component ${componentId} does not exist in application ${applicationId}`);
    return c;
  }

  /** As require, and not being deleted. @throws 409 SVCSTG.00100409 while its removal runs */
  private async requireLive(project: string, applicationId: string, componentId: string): Promise<Component> {
    const c = await this.require(project, applicationId, componentId);
    if (c.deleteJobId) throw casError('Conflict', `component ${componentId} is being deleted`);
    return c;
  }
}

/**
 * The ComponentUsage other services are built with, before the component service exists
 * (it needs them): answers "none" until `bind()` gives it the real one (server.ts).
 */
export class LateComponentUsage implements ComponentUsage {
  private target: ComponentUsage | undefined;

  bind(target: ComponentUsage): void {
    this.target = target;
  }

  countInEnvironment(project: string, environmentId: string): Promise<number> {
    return this.target ? this.target.countInEnvironment(project, environmentId) : Promise.resolve(0);
  }

  countInApplication(project: string, applicationId: string): Promise<number> {
    return this.target ? this.target.countInApplication(project, applicationId) : Promise.resolve(0);
  }

  countOnRuntimeStack(project: string, stack: { name: string; type: string; version: string }): Promise<number> {
    return this.target ? this.target.countOnRuntimeStack(project, stack) : Promise.resolve(0);
  }

  mountsOfConfig(project: string, configId: string): Promise<ComponentRef[]> {
    return this.target ? this.target.mountsOfConfig(project, configId) : Promise.resolve([]);
  }
}

/** A clone URL reduced for comparison: no user info, trailing `/` or `.git`; host lower-cased. */
function sameRepo(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return `${u.protocol}//${u.host.toLowerCase()}${u.pathname.replace(/\/+$/, '').replace(/\.git$/, '')}`;
  } catch {
    return url.replace(/\/+$/, '').replace(/\.git$/, '');
  }
}
