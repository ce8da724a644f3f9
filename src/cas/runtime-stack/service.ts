import { randomUUID } from 'node:crypto';
import type { Executor } from '../../core/db/kysely.js';
import { AlreadyExistsError, type OpenStageError } from '../../core/errors.js';
import { casError } from '../errors.js';
import type { CasDeps } from '../types.js';
import * as stackStore from './store.js';
import { findSystemStack, SYSTEM_STACKS } from './system.js';
import type { RuntimeStack, RuntimeStackCreate, RuntimeStackUpdate, RuntimeStackView, StackStatus, StackType } from './types.js';

/** Release actions of POST /runtimestacks/action and the status each sets. */
const ACTIONS: Readonly<Record<string, StackStatus>> = { Supported: 'Supported', Disable: 'Disable' };

/**
 * Runtime (technology) stacks (servicestage.md §6): the built-in system stacks (system.ts)
 * plus each project's custom stacks.
 *
 * - A new custom stack is `Disable` (not released) until released with the `Supported`
 *   action; `Disable` cancels the release. Components should use only `Supported` stacks.
 * - System stacks cannot be modified, released or deleted (400 SVCSTG.00100400).
 * - Names are unique per project, system names included (400 SVCSTG.00100459).
 * - Missing stacks are 404 SVCSTG.00100404 (not an environment/application/component path).
 * - Delete is refused with 409 SVCSTG.00100409 while components run on the stack.
 */
export class RuntimeStackService {
  constructor(private readonly deps: CasDeps) {}

  /** System stacks then the project's custom stacks (oldest first), with component counts. */
  async list(project: string): Promise<RuntimeStackView[]> {
    const custom = (await stackStore.listStacks(this.deps.db.kysely, project)).sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1));
    return Promise.all([...SYSTEM_STACKS, ...custom].map((s) => this.view(project, s)));
  }

  /** One stack, system or custom. @throws 404 SVCSTG.00100404 when absent */
  async get(project: string, stackId: string): Promise<RuntimeStackView> {
    return this.view(project, await this.require(project, stackId));
  }

  /**
   * The stack a component names by `name`: a system stack or one of the project's custom
   * stacks (names are unique across both), whatever its status. @returns undefined when none
   */
  async findByName(project: string, name: string): Promise<RuntimeStack | undefined> {
    return SYSTEM_STACKS.find((s) => s.name === name) ?? (await stackStore.findStackByName(this.deps.db.kysely, project, name));
  }

  /** `{type, url}` of every system stack: what each runs on (GET /innerimages). */
  innerImages(): { type: StackType; url: string }[] {
    return SYSTEM_STACKS.map((s) => ({ type: s.type, url: s.url }));
  }

  /**
   * Creates a custom stack in status `Disable`. @param creator the caller's user name
   * @throws 400 SVCSTG.00100459 when the name is used (by a system or custom stack)
   */
  async create(project: string, body: RuntimeStackCreate, creator: string): Promise<RuntimeStackView> {
    this.checkNameFree(body.name);
    const now = this.deps.clock.now();
    const stack: RuntimeStack = {
      id: randomUUID(),
      projectId: project,
      name: body.name,
      deployMode: body.deploy_mode,
      type: body.type,
      version: body.version,
      spec: body.spec ?? {},
      description: body.description ?? '',
      system: false,
      status: 'Disable',
      creator,
      url: '',
      createdAtMs: now,
      updatedAtMs: now,
    };
    try {
      await stackStore.createStack(this.deps.db.kysely, stack);
    } catch (err) {
      throw this.nameClash(err, body.name);
    }
    return { ...stack, componentCount: 0 };
  }

  /**
   * Changes name, version, spec and/or description of a custom stack; `deploy_mode` and
   * `type` may be resent unchanged. @throws 404 SVCSTG.00100404 when absent; 400
   * SVCSTG.00100400 for a system stack or a changed deploy_mode/type; 400 SVCSTG.00100459
   * for a used name
   */
  async update(project: string, stackId: string, body: RuntimeStackUpdate): Promise<RuntimeStackView> {
    const updated = await this.deps.db.kysely.transaction().execute(async (trx) => {
      const stack = await this.requireCustom(project, stackId, 'modified', trx);
      if (body.deploy_mode !== undefined && body.deploy_mode !== stack.deployMode) throw casError('InvalidParameter', `deploy_mode of a runtime stack cannot be changed (it is ${stack.deployMode})`);
      if (body.type !== undefined && body.type !== stack.type) throw casError('InvalidParameter', `type of a runtime stack cannot be changed (it is ${stack.type})`);
      if (body.name !== undefined && body.name !== stack.name) this.checkNameFree(body.name);
      const next: RuntimeStack = {
        ...stack,
        name: body.name ?? stack.name,
        version: body.version ?? stack.version,
        spec: body.spec ?? stack.spec,
        description: body.description ?? stack.description,
        updatedAtMs: this.deps.clock.now(),
      };
      try {
        await stackStore.updateStack(trx, next);
      } catch (err) {
        throw this.nameClash(err, next.name);
      }
      return next;
    });
    return this.view(project, updated);
  }

  /**
   * Deletes a custom stack. @throws 404 SVCSTG.00100404 when absent; 400 SVCSTG.00100400
   * for a system stack; 409 SVCSTG.00100409 while components run on it
   */
  async delete(project: string, stackId: string): Promise<void> {
    const stack = await this.requireCustom(project, stackId, 'deleted');
    const used = await this.deps.components.countOnRuntimeStack(project, stack);
    if (used > 0) throw casError('Conflict', `runtime stack ${stack.name} is used by ${used} component(s)`);
    if (!(await stackStore.deleteStack(this.deps.db.kysely, project, stackId))) throw this.notFound(stackId);
  }

  /**
   * Releases (`Supported`) or cancels the release (`Disable`) of custom stacks, all or none.
   * @throws 400 SVCSTG.00100418 for another action; 404 SVCSTG.00100404 for an unknown id;
   *   400 SVCSTG.00100400 for a system stack
   */
  async action(project: string, action: string, ids: string[]): Promise<void> {
    const status = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
    if (!status) throw casError('ActionNotDefined', `action "${action}" is not defined; use one of ${Object.keys(ACTIONS).join(', ')}`);
    const unique = [...new Set(ids)];
    const system = unique.find((id) => findSystemStack(id));
    if (system) throw casError('InvalidParameter', `runtime stack ${system} is a system stack; its status cannot be changed`);
    await this.deps.db.kysely.transaction().execute(async (trx) => {
      const found = new Set((await stackStore.findStacks(trx, project, unique)).map((s) => s.id));
      const missing = unique.find((id) => !found.has(id));
      if (missing) throw this.notFound(missing);
      await stackStore.setStatus(trx, project, unique, status, this.deps.clock.now());
    });
  }

  private async view(project: string, s: RuntimeStack): Promise<RuntimeStackView> {
    return { ...s, projectId: s.system ? '' : s.projectId, componentCount: await this.deps.components.countOnRuntimeStack(project, s) };
  }

  private async require(project: string, stackId: string): Promise<RuntimeStack> {
    const stack = findSystemStack(stackId) ?? (await stackStore.findStack(this.deps.db.kysely, project, stackId));
    if (!stack) throw this.notFound(stackId);
    return stack;
  }

  private async requireCustom(project: string, stackId: string, verb: string, db: Executor = this.deps.db.kysely): Promise<RuntimeStack> {
    if (findSystemStack(stackId)) throw casError('InvalidParameter', `runtime stack ${stackId} is a system stack and cannot be ${verb}`);
    const stack = await stackStore.findStack(db, project, stackId);
    if (!stack) throw this.notFound(stackId);
    return stack;
  }

  private checkNameFree(name: string): void {
    if (SYSTEM_STACKS.some((s) => s.name === name)) throw casError('NameUsed', `runtime stack name "${name}" is used by a system stack`);
  }

  private nameClash(err: unknown, name: string): unknown {
    return err instanceof AlreadyExistsError ? casError('NameUsed', `runtime stack name "${name}" is already used in this project`) : err;
  }

  private notFound(stackId: string): OpenStageError {
    return casError('ResourceNotFound', `runtime stack ${stackId} does not exist`);
  }
}
