import { randomUUID } from 'node:crypto';
import type { Logger } from '../../core/log.js';
import { paginate } from '../common/page.js';
import { casError } from '../errors.js';
import type { CasDeps } from '../types.js';
import type { IacProvider, IacTarget } from './providers/types.js';
import type { IacResourceBodyWire } from './schemas.js';
import type { EnvironmentService } from './service.js';
import * as environmentStore from './store.js';
import { IAC_RESOURCE_TYPES, type Environment, type IacResource, type PlanItem, type Provision, type StackEvent } from './types.js';

/** What one resource's step in a provisioning did. */
interface Step {
  resource: IacResource;
  action: 'create' | 'replace' | 'delete' | 'no-op';
  ok: boolean;
  error?: string;
  resourceId: string;
  /** The new state (undefined when nothing exists any more). */
  state?: Record<string, string>;
}

/** A resource's variables: vars_body (values as text) overridden by vars_structure. */
export function resourceVars(r: Pick<IacResource, 'vars_body' | 'vars_structure'>): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.vars_body)) vars[k] = typeof v === 'string' ? v : JSON.stringify(v);
  for (const { var_key, var_value } of r.vars_structure) vars[var_key] = var_value;
  return vars;
}

/**
 * Created (IaC) resources of environments and their provisioning (servicestage.md §2 rows
 * "Enable created resources" … "Record events"). Adding, changing and deleting only edit the
 * desired state; `provision` applies it with the built-in providers (`rds`, `cse`):
 * the record is written first (…_IN_PROGRESS), the providers run outside any transaction,
 * then the record, the resources' states and the environment's `iac_task_status` are written
 * in one transaction. A deleted resource that exists is kept (hidden) until the next
 * provisioning destroys it.
 */
export class EnvironmentIac {
  private readonly providers: Map<string, IacProvider>;
  /** Environments being provisioned by this process (a second provision is refused with 409). */
  private readonly running = new Set<string>();
  private readonly log: Logger;

  constructor(
    private readonly deps: CasDeps,
    private readonly environments: EnvironmentService,
    providers: IacProvider[],
  ) {
    this.providers = new Map(providers.map((p) => [p.type, p]));
    this.log = deps.log.child({ area: 'cas', resource: 'iac' });
  }

  /** The created resources of an environment (deleted ones waiting for destruction left out). @throws casError NotFound */
  async list(project: string, environmentId: string): Promise<IacResource[]> {
    return (await this.environments.get(project, environmentId)).iac_resources;
  }

  /**
   * Adds a created resource to the desired state (status INIT until provisioned).
   * @returns the environment after the change
   * @throws casError NotFound; InvalidParameter for an unsupported type (naming the supported
   *   ones) or bad variables; NameUsed when the environment has that id or name
   */
  async add(project: string, environmentId: string, body: IacResourceBodyWire): Promise<Environment> {
    const provider = this.provider(body.type);
    return this.deps.db.kysely.transaction().execute(async (trx) => {
      const env = await this.environments.load(trx, project, environmentId);
      const all = (await environmentStore.listIacResources(trx, [environmentId])).get(environmentId) ?? [];
      const id = body.id ?? randomUUID();
      if (all.some((r) => r.id === id)) throw casError('NameUsed', `the environment already has a created resource with id ${id}`);
      if (all.some((r) => !r.removed && r.name === body.name)) throw casError('NameUsed', `the environment already has a created resource named ${body.name}`);
      const now = this.deps.clock.now();
      const resource: IacResource = {
        id,
        environment_id: environmentId,
        name: body.name,
        type: body.type,
        custom_hcl: body.custom_hcl ?? '',
        vars_body: body.vars_body ?? {},
        vars_structure: body.vars_structure ?? [],
        status: 'INIT',
        resource_id: '',
        removed: false,
        sealedState: '',
        create_time: now,
        update_time: now,
      };
      this.checkVars(provider, resource);
      await environmentStore.createIacResource(trx, resource);
      return { ...env, iac_resources: [...env.iac_resources, resource] };
    });
  }

  /**
   * Changes a created resource's desired state (name, type, custom_hcl, vars); the next
   * provisioning applies it (a changed database or user name replaces the database).
   * @returns the environment after the change
   * @throws casError NotFound (environment); ResourceNotFound (404) for an unknown resource;
   *   InvalidParameter as for add, or when body.id differs from the path
   */
  async update(project: string, environmentId: string, resourceId: string, body: IacResourceBodyWire): Promise<Environment> {
    const provider = this.provider(body.type);
    if (body.id !== undefined && body.id !== resourceId) throw casError('InvalidParameter', `id ${body.id} differs from the resource id ${resourceId} in the path`);
    return this.deps.db.kysely.transaction().execute(async (trx) => {
      const env = await this.environments.load(trx, project, environmentId);
      const current = env.iac_resources.find((r) => r.id === resourceId);
      if (!current) throw casError('ResourceNotFound', `environment ${environmentId} has no created resource ${resourceId}`);
      if (env.iac_resources.some((r) => r.id !== resourceId && r.name === body.name)) throw casError('NameUsed', `the environment already has a created resource named ${body.name}`);
      const next: IacResource = {
        ...current,
        name: body.name,
        type: body.type,
        custom_hcl: body.custom_hcl ?? current.custom_hcl,
        vars_body: body.vars_body ?? current.vars_body,
        vars_structure: body.vars_structure ?? current.vars_structure,
        update_time: this.deps.clock.now(),
      };
      this.checkVars(provider, next);
      await environmentStore.updateIacResource(trx, next);
      return { ...env, iac_resources: env.iac_resources.map((r) => (r.id === resourceId ? next : r)) };
    });
  }

  /**
   * Removes a created resource from the desired state. One never provisioned is deleted at
   * once; one that exists is destroyed by the next provisioning.
   * @throws casError NotFound (environment); ResourceNotFound (404) for an unknown resource
   */
  async delete(project: string, environmentId: string, resourceId: string): Promise<void> {
    await this.deps.db.kysely.transaction().execute(async (trx) => {
      const env = await this.environments.load(trx, project, environmentId);
      const current = env.iac_resources.find((r) => r.id === resourceId);
      if (!current) throw casError('ResourceNotFound', `environment ${environmentId} has no created resource ${resourceId}`);
      if (current.sealedState) await environmentStore.updateIacResource(trx, { ...current, removed: true, update_time: this.deps.clock.now() });
      else await environmentStore.deleteIacResource(trx, environmentId, resourceId);
    });
  }

  /**
   * Applies the desired state (servicestage.md §2 "Enable created resources", D:0187):
   * creates what is missing, replaces what changed identity, destroys what was deleted.
   * A provider failure does not stop the others; it makes the record …_FAILED with the
   * reason in `status_message` (the answer is still 200).
   * @param creator the caller's user name
   * @returns the finished record
   * @throws casError NotFound; Conflict (409) while this environment is being provisioned
   */
  async provision(project: string, environmentId: string, creator: string): Promise<Provision> {
    if (this.running.has(environmentId)) throw casError('Conflict', `environment ${environmentId} is being provisioned`);
    this.running.add(environmentId);
    try {
      return await this.runProvision(project, environmentId, creator);
    } finally {
      this.running.delete(environmentId);
    }
  }

  private async runProvision(project: string, environmentId: string, creator: string): Promise<Provision> {
    const db = this.deps.db.kysely;
    const started = this.deps.clock.now();
    const { record, resources } = await db.transaction().execute(async (trx) => {
      await this.environments.load(trx, project, environmentId);
      const all = (await environmentStore.listIacResources(trx, [environmentId])).get(environmentId) ?? [];
      const first = (await environmentStore.listProvisions(trx, environmentId)).length === 0;
      const desired = all.filter((r) => !r.removed);
      const rec: Provision = {
        id: randomUUID(),
        environment_id: environmentId,
        task_id: randomUUID(),
        operation: 'EXECUTION_PLAN_APPLY',
        status: first ? 'CREATION_IN_PROGRESS' : 'UPDATE_IN_PROGRESS',
        status_message: '',
        vars_body: JSON.stringify(Object.fromEntries(desired.map((r) => [r.name, r.vars_body]))),
        vars_structure: JSON.stringify(desired.flatMap((r) => r.vars_structure.map((v) => ({ ...v, var_key: `${r.name}.${v.var_key}` })))),
        stack_resources: '[]',
        stack_output: '{}',
        plan: [],
        events: [],
        creator,
        create_time: started,
        modify_time: started,
      };
      await environmentStore.createProvision(trx, rec);
      await environmentStore.setIacTaskStatus(trx, environmentId, rec.status);
      return { record: rec, resources: all };
    });
    this.log.info({ project, environmentId, provisionId: record.id }, 'provisioning started');

    const steps: Step[] = [];
    const events: StackEvent[] = [];
    for (const r of resources) steps.push(await this.applyOne(r, { project, user: creator }, events, started));

    const failed = steps.filter((s) => !s.ok);
    const done = this.deps.clock.now();
    const base = record.status === 'CREATION_IN_PROGRESS' ? 'CREATION' : 'UPDATE';
    const finished: Provision = {
      ...record,
      status: failed.length ? `${base}_FAILED` : `${base}_COMPLETE`,
      status_message: failed.length ? failed.map((s) => `${s.resource.type} ${s.resource.name}: ${s.error}`).join('; ') : `${steps.length} resource(s) applied`,
      plan: steps.map((s, i) => planItem(s, i)),
      stack_resources: JSON.stringify(steps.filter((s) => s.state).map((s) => ({ resource_type: s.resource.type, resource_name: s.resource.name, resource_id: s.resourceId, status: s.ok ? 'READY' : 'FAILED' }))),
      stack_output: JSON.stringify(Object.fromEntries(steps.filter((s) => s.state).map((s) => [s.resource.name, publicOutput(s.state!)]))),
      events: [
        ...events,
        {
          resource_type: '',
          resource_name: '',
          elapsed_seconds: Math.round((done - started) / 1000),
          event_message: failed.length ? `provisioning failed: ${failed.length} of ${steps.length} resource(s)` : `provisioning complete: ${steps.length} resource(s)`,
          event_type: 'SUMMARY',
          resource_id_key: '',
          resource_id_value: '',
          timeMs: done,
        },
      ],
      modify_time: done,
    };
    await db.transaction().execute(async (trx) => {
      for (const s of steps) {
        const r = s.resource;
        if (s.action === 'delete' && s.ok) await environmentStore.deleteIacResource(trx, environmentId, r.id);
        else if (s.action === 'delete') await environmentStore.updateIacResource(trx, { ...r, status: 'DELETION_FAILED', update_time: done });
        else {
          const sealedState = s.state ? this.deps.secrets.encrypt(JSON.stringify(s.state)) : '';
          await environmentStore.updateIacResource(trx, { ...r, status: s.ok ? 'CREATION_COMPLETE' : 'CREATION_FAILED', resource_id: s.resourceId, sealedState, update_time: done });
        }
      }
      await environmentStore.updateProvision(trx, finished);
      await environmentStore.setIacTaskStatus(trx, environmentId, finished.status);
    });
    this.log.info({ project, environmentId, provisionId: record.id, status: finished.status }, 'provisioning finished');
    return finished;
  }

  /** Runs one resource's step with its provider, recording events; never throws. */
  private async applyOne(r: IacResource, actor: { project: string; user: string }, events: StackEvent[], started: number): Promise<Step> {
    const provider = this.providers.get(r.type);
    const target: IacTarget = { id: r.id, name: r.name, ...actor };
    const previous = r.sealedState ? (JSON.parse(this.deps.secrets.decrypt(r.sealedState)) as Record<string, string>) : undefined;
    const vars = resourceVars(r);
    const action: Step['action'] = r.removed ? 'delete' : !previous ? 'create' : provider && provider.identity(r, vars) !== provider.stateIdentity(previous) ? 'replace' : 'no-op';
    const event = (type: string, message: string, resourceId = r.resource_id): void => {
      const now = this.deps.clock.now();
      events.push({ resource_type: r.type, resource_name: r.name, elapsed_seconds: Math.round((now - started) / 1000), event_message: message, event_type: type, resource_id_key: 'id', resource_id_value: resourceId, timeMs: now });
    };
    if (!provider) {
      const error = `no provider for type ${r.type}`;
      event('LOG', error);
      return { resource: r, action, ok: false, error, resourceId: r.resource_id, state: previous };
    }
    let destroyed = false;
    try {
      if (action === 'delete' || action === 'replace') {
        event('LOG', `destroying ${r.resource_id}`);
        await provider.destroy(target, previous!);
        destroyed = true;
        event('DELETE_COMPLETE', `destroyed ${r.resource_id}`);
        if (action === 'delete') return { resource: r, action, ok: true, resourceId: r.resource_id };
      }
      event('LOG', action === 'no-op' ? 'checking' : 'creating');
      const { resourceId, state } = await provider.apply(target, vars, action === 'no-op' ? previous : undefined);
      event(action === 'no-op' ? 'UPDATE_COMPLETE' : 'CREATE_COMPLETE', `${r.type} ${resourceId} ready`, resourceId);
      return { resource: r, action, ok: true, resourceId, state };
    } catch (err) {
      const error = (err as Error).message;
      event(action === 'delete' ? 'DELETE_FAILED' : 'CREATE_FAILED', error);
      this.log.warn({ environmentId: r.environment_id, resourceId: r.id, error }, 'provisioning a resource failed');
      // The old state is kept only while the old resource still exists.
      return { resource: r, action, ok: false, error, resourceId: destroyed ? '' : r.resource_id, state: destroyed ? undefined : previous };
    }
  }

  /**
   * The provisioning records of an environment, newest first by default (D:0173), as
   * `{total, pageNum, pageSize, list}`: pageSize is the limit (the total when none),
   * pageNum = offset / limit + 1.
   * @throws casError NotFound
   */
  async histories(project: string, environmentId: string, query: { limit?: number; offset?: number; order_by?: string; order?: 'asc' | 'desc' }): Promise<{ total: number; pageNum: number; pageSize: number; list: Provision[] }> {
    await this.environments.get(project, environmentId);
    const all = await environmentStore.listProvisions(this.deps.db.kysely, environmentId);
    const byId = new Map(all.map((p) => [p.id, p]));
    const page = paginate(
      all.map((p) => ({ id: p.id, name: p.id, create_time: p.create_time, update_time: p.modify_time })),
      { ...query, order_by: query.order_by === 'update_time' || query.order_by === 'modify_time' ? 'update_time' : 'create_time' },
    );
    const limit = query.limit || 0;
    return { total: page.total, pageNum: limit ? Math.floor((query.offset ?? 0) / limit) + 1 : 1, pageSize: limit || page.total, list: page.items.map((o) => byId.get(o.id)!) };
  }

  /** One provisioning record. @throws casError NotFound (environment); ResourceNotFound (404) for an unknown record */
  async history(project: string, environmentId: string, historyId: string): Promise<Provision> {
    await this.environments.get(project, environmentId);
    const p = await environmentStore.findProvision(this.deps.db.kysely, environmentId, historyId);
    if (!p) throw casError('ResourceNotFound', `environment ${environmentId} has no provisioning record ${historyId}`);
    return p;
  }

  /**
   * Destroys what deleted created resources had made (after an environment is deleted);
   * failures are logged, never thrown.
   * @param actor the environment's project and the user recorded on the providers' work
   */
  async destroyAll(actor: { project: string; user: string }, resources: readonly IacResource[]): Promise<void> {
    for (const r of resources) {
      if (!r.sealedState) continue;
      try {
        await this.providers.get(r.type)?.destroy({ id: r.id, name: r.name, ...actor }, JSON.parse(this.deps.secrets.decrypt(r.sealedState)) as Record<string, string>);
      } catch (err) {
        this.log.error({ environmentId: r.environment_id, resourceId: r.id, err }, 'destroying a created resource of a deleted environment failed');
      }
    }
  }

  private provider(type: string): IacProvider {
    const p = this.providers.get(type);
    if (!p) throw casError('InvalidParameter', `type '${type}' has no provider; supported created resource types: ${IAC_RESOURCE_TYPES.join(', ')}`);
    return p;
  }

  private checkVars(provider: IacProvider, r: IacResource): void {
    const problem = provider.check(resourceVars(r));
    if (problem) throw casError('InvalidParameter', problem);
  }
}

/** The non-secret part of a state (stack_output). */
function publicOutput(state: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(state).filter(([k]) => !/password|secret|token/i.test(k)));
}

function planItem(s: Step, index: number): PlanItem {
  const attributes = s.state ? Object.entries(publicOutput(s.state)).map(([key, value]) => ({ key, value })) : [];
  return {
    resource_type: s.resource.type,
    resource_name: s.resource.name,
    index: String(index),
    action: s.action,
    action_reason: s.ok ? '' : (s.error ?? ''),
    mode: 'RESOURCE',
    drifted: false,
    imported: false,
    resource_id: s.resourceId,
    attributes,
  };
}
