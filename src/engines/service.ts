import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Cluster } from '../core/cluster.js';
import type { Config } from '../core/config.js';
import type { Db } from '../core/db/kysely.js';
import { AlreadyExistsError, OpenStageError } from '../core/errors.js';
import type { ChangeFeed } from '../core/feed.js';
import type { Logger } from '../core/log.js';
import { Mutex } from '../core/mutex.js';
import type { Ownership } from '../core/ownership.js';
import { processStartTicks, signalGroup } from '../core/process/supervisor.js';
import type { SecretBox } from '../core/secrets.js';
import type { RbacService } from '../rbac/service.js';
import type { RegistryService } from '../registry/service.js';
import { VERSION } from '../version.js';
import { engineError } from './errors.js';
import { anyFreePort, callEngine, countInstances, EngineProcesses, portFree, type EngineLaunch } from './process.js';
import * as engineStore from './store.js';
import { BUILT_IN_ENGINE_ID, FLAVORS, type CreateEngineInput, type Engine, type EngineEvents, type EngineJob, type EngineTag, type EngineView, type JobStatus, type JobTask, type JobType } from './types.js';

/** Dependencies of EngineService, built in server.ts. */
export interface EngineDeps {
  db: Db;
  bus: Bus<EngineEvents>;
  /** Jobs for an engine another server owns reach it through the feed. */
  feed: ChangeFeed<EngineEvents>;
  /** Each exclusive engine is supervised by its owning server; a dead owner's engines are taken over. */
  ownership: Ownership;
  cluster: Cluster;
  clock: Clock;
  log: Logger;
  config: Readonly<Config>;
  secrets: SecretBox;
  registry: RegistryService;
  /** The main server's engine RBAC (built-in engine tokens); absent when rbac.enabled is false. */
  rbac?: RbacService;
}

/** Why a job's task was aborted. */
class Abort extends Error {
  constructor(readonly kind: 'timeout' | 'shutdown', message: string) {
    super(message);
  }
}

/** Ownership kind of exclusive engines (core_owners.kind). */
const ENGINE = 'engine';

/** One step of a job: a name, a timeout and what it does. */
interface Step {
  name: string;
  timeoutMs: number;
  run: (ctx: { signal: AbortSignal; log: (line: string) => void }) => Promise<void>;
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$/;
/** SC password rules (servicecomb.md §2 "Account rules"). */
const PASSWORD_CLASSES = [/[A-Z]/, /[a-z]/, /[0-9]/, /[^A-Za-z0-9]/];

/**
 * CSE engine management (servicecomb.md §4.2). The built-in engine is this server's own
 * registry and config center. An exclusive engine is a separate OpenStage process (see
 * EngineProcesses) with its own data directory, port and instance quota (by flavor),
 * provisioned by a Create job and removed by a Delete job. Jobs are kept in this area's own
 * table (integer ids, the CSE statuses Init/Executing/Finished/Error/Timeout) and run by
 * the engine's owner, one step after another outside any transaction, each under its timeout.
 *
 * Several servers (PostgreSQL): each engine is owned by one server (core/ownership.ts), which
 * supervises its process on its own host and records it as Available / Unavailable; a job
 * for it submitted elsewhere reaches the owner through the feed. When the owner dies, the
 * server it is handed to ends the interrupted job (Error, with the reason) and adopts the
 * process (same host) or starts it on its own host; a server that loses its lease stops the
 * processes it supervised first.
 */
export class EngineService {
  private readonly processes: EngineProcesses;
  private readonly log: Logger;
  private builtInAddress = '';
  /** Running jobs' abort controllers, by job id. */
  private readonly running = new Map<number, { controller: AbortController; done: Promise<void> }>();
  /** Ports promised to engines being created (not yet stored). */
  private readonly reservedPorts = new Set<number>();
  private readonly usage = new Map<string, { used: number; atMs: number }>();
  private readonly tokens = new Map<string, { token: string; expiresAtMs: number }>();
  /** Engines this server owns (supervises and runs the jobs of). */
  private readonly supervised = new Set<string>();
  private stopping = false;
  /**
   * Serialises the create and delete transactions: the engine count (maxEngines) and the next
   * job id (max + 1) are read and written in one transaction, which PostgreSQL's READ
   * COMMITTED does not isolate from a concurrent one.
   */
  private readonly writes = new Mutex();
  /** The stop of every engine process this server let go of when it lost its lease. */
  private lettingGo: Promise<void> = Promise.resolve();

  constructor(private readonly deps: EngineDeps) {
    this.log = deps.log.child({ area: 'engines' });
    this.processes = new EngineProcesses({
      clock: deps.clock,
      log: this.log,
      terminationGraceMs: deps.config.engines.terminationGraceSeconds * 1000,
      onChange: (state) => {
        // A server that let go of an engine (lost lease) no longer speaks for it.
        if (!this.supervised.has(state.instanceId)) return;
        const write = async (): Promise<void> => {
          if (state.state === 'running') await engineStore.setEngineProcess(deps.db.kysely, state.instanceId, state.pid, state.startTicks);
          // Every server shows what the owner sees of the process.
          await engineStore.setRunningStatus(deps.db.kysely, state.instanceId, state.state === 'running' ? 'Available' : 'Unavailable', deps.clock.now());
        };
        write().catch((err: unknown) => this.log.error({ err }, 'engine process write failed'));
      },
    });
    deps.bus.subscribe('engines.job.submitted', ({ jobId, engineId }) => {
      if (this.supervised.has(engineId)) void this.runStoredJob(jobId);
    });
    deps.ownership.onTakeover(ENGINE, (id, from) => this.takeOver(id, from));
    deps.ownership.onLost(ENGINE, () => {
      // Another server takes them over: this one stops acting on them first.
      for (const r of this.running.values()) r.controller.abort(new Abort('shutdown', 'interrupted: this server lost its cluster lease'));
      this.supervised.clear();
      this.lettingGo = this.processes.runtime.stopAll().catch((err: unknown) => this.log.error({ err }, 'stopping engine processes failed'));
    });
  }

  // ───────────────────────── lifecycle ─────────────────────────

  /**
   * Takes back the engines a previous run of this server owned (on SQLite: every engine; on
   * PostgreSQL also those nobody owns): their unfinished jobs end (Error, "interrupted";
   * CreateFailed / DeleteFailed), and every engine that should run is taken over — the
   * process still running (same pid and start time) is adopted, else a new one is started.
   * Engines of other servers are left to them (or handed over when they die).
   */
  async start(): Promise<void> {
    const { db, ownership } = this.deps;
    const me = this.deps.cluster.serverId();
    for (const engine of await engineStore.listEngines(db.kysely)) {
      if (ownership.recorded) {
        const owner = await ownership.ownerOf(ENGINE, engine.id);
        if (owner !== undefined && owner !== me) continue;
        if (owner === undefined) await db.kysely.transaction().execute((trx) => ownership.claim(trx, ENGINE, engine.id));
      }
      await this.recover(engine, 'interrupted: the server stopped while this task ran', 'after restart');
    }
  }

  /** An engine of a dead server was handed to this one. */
  private async takeOver(id: string, from: string): Promise<void> {
    const engine = await engineStore.findEngine(this.deps.db.kysely, id);
    if (!engine) {
      await this.deps.db.kysely.transaction().execute((trx) => this.deps.ownership.release(trx, ENGINE, id));
      return;
    }
    await this.recover(engine, `interrupted: server ${from}, which ran this job, stopped (its cluster lease ended)`, `from server ${from}`);
  }

  /**
   * Makes this server the supervisor of an engine nobody acts on: its unfinished jobs end
   * with `reason` (a Delete that had not started runs here), and a running engine is adopted
   * or started on this host; a failed engine's leftover process on this host is stopped.
   */
  private async recover(engine: Engine, reason: string, how: string): Promise<void> {
    const { db, clock } = this.deps;
    // Handed back to this server (under its new id) while it still stops what it let go of:
    // that stop ends first, so the engine is started afresh, not adopted as it ends.
    await this.lettingGo;
    this.supervised.add(engine.id);
    let pendingDelete: EngineJob | undefined;
    for (const job of await engineStore.listUnfinishedJobs(db.kysely, engine.id)) {
      if (job.type === 'Delete' && job.status === 'Init' && !pendingDelete) {
        pendingDelete = job;
        continue;
      }
      const now = clock.now();
      for (const t of job.tasks) {
        if (t.status === 'Executing' || t.status === 'Init') {
          if (t.status === 'Executing') t.messages.push(reason);
          t.status = 'Error';
          t.endTimeMs = now;
        }
      }
      if (job.tasks.length === 0) job.tasks = [{ name: 'Start job', status: 'Error', startTimeMs: now, endTimeMs: now, timeoutMs: 0, messages: [reason] }];
      job.status = 'Error';
      job.endTimeMs = now;
      engine.status = job.type === 'Create' ? 'CreateFailed' : 'DeleteFailed';
      await db.kysely.transaction().execute(async (trx) => {
        await engineStore.updateJob(trx, job);
        await engineStore.updateEngine(trx, job.engineId, { status: engine.status }, now);
      });
      this.log.warn({ jobId: job.id, engineId: job.engineId }, 'interrupted engine job marked failed');
    }
    if (engine.status === 'Available' || engine.status === 'Unavailable' || engine.status === 'Deleting') {
      try {
        await engineStore.updateEngine(db.kysely, engine.id, { host: this.deps.config.host }, clock.now());
        engine.host = this.deps.config.host;
        const state = await this.processes.runtime.adopt(this.processes.specOf(this.launchOf(engine)), engine.pid, engine.startTicks);
        this.log.info({ engineId: engine.id, adopted: state.adopted, pid: state.pid }, `engine taken over ${how}`);
      } catch (err) {
        this.log.error({ err, engineId: engine.id }, 'engine could not be restarted');
      }
    } else if (engine.pid !== undefined && engine.startTicks !== undefined && processStartTicks(engine.pid) === engine.startTicks) {
      // A failed engine's process left running: stop it.
      signalGroup(engine.pid, 'SIGTERM');
    }
    if (pendingDelete) void this.runStoredJob(pendingDelete.id);
  }

  /** Runs a stored job (Init) of an engine this server owns: a Delete submitted elsewhere. */
  private async runStoredJob(jobId: number): Promise<void> {
    try {
      const job = await engineStore.findJob(this.deps.db.kysely, jobId);
      if (!job || job.status !== 'Init' || this.running.has(jobId)) return;
      const engine = await engineStore.findEngine(this.deps.db.kysely, job.engineId);
      if (!engine) return;
      this.runJob(job, engine, job.type === 'Delete' ? this.deleteSteps(engine) : []);
    } catch (err) {
      this.log.error({ err, jobId }, 'running an engine job failed');
    }
  }

  /**
   * Aborts running jobs, then lets go of the engine processes (they keep running and are
   * adopted by the next start) or, with engines.stopOnShutdown, stops them.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const r of this.running.values()) r.controller.abort(new Abort('shutdown', 'interrupted: the server is stopping'));
    await Promise.all([...this.running.values()].map((r) => r.done));
    if (this.deps.config.engines.stopOnShutdown) await this.processes.runtime.stopAll();
    else this.processes.runtime.detachAll();
  }

  /** Stops every engine process (tests; a full shutdown). */
  async stopAllProcesses(): Promise<void> {
    await this.processes.runtime.stopAll();
  }

  /** Sets the base URL of this server (the built-in engine's address), once it listens. */
  setBuiltInAddress(url: string): void {
    this.builtInAddress = url;
  }

  // ───────────────────────── reads ─────────────────────────

  /** GET /flavors: every flavor with its description. */
  flavors(): { flavor: string; description: string }[] {
    return FLAVORS.map((f) => ({ flavor: f.flavor, description: f.description }));
  }

  /**
   * GET /engines: the built-in engine first, then the project's exclusive engines by
   * creation time. `type` ALL or CSE lists them all; Nacos and MicroGateway list none.
   */
  async list(project: string, q: { offset?: number; limit?: number; type?: string }): Promise<{ total: number; views: EngineView[] }> {
    if (q.type && q.type !== 'ALL' && q.type !== 'CSE') return { total: 0, views: [] };
    const engines = (await engineStore.listEngines(this.deps.db.kysely, project)).sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
    const all: (Engine | undefined)[] = [undefined, ...engines];
    const offset = q.offset ?? 0;
    const page = q.limit ? all.slice(offset, offset + q.limit) : all.slice(offset);
    return { total: all.length, views: await Promise.all(page.map((e) => (e ? this.viewOf(e) : this.builtInView(project)))) };
  }

  /** GET /engines/{id}. @throws 400 SVCSTG.00501116 when the project has no such engine */
  async get(project: string, id: string): Promise<EngineView> {
    if (id === BUILT_IN_ENGINE_ID) return this.builtInView(project);
    return this.viewOf(await this.require(project, id));
  }

  /**
   * GET /engines/{id}/jobs/{jobId}. @throws 400 SVCSTG.00501152 when the id is not a
   * positive integer; SVCSTG.00501116 unknown engine; SVCSTG.00501153 unknown job
   */
  async getJob(project: string, engineId: string, jobIdText: string): Promise<EngineJob> {
    if (!/^[1-9][0-9]{0,9}$/.test(jobIdText)) throw engineError('JobIdInvalid', jobIdText);
    if (engineId !== BUILT_IN_ENGINE_ID) await this.require(project, engineId);
    const job = await engineStore.findJob(this.deps.db.kysely, Number(jobIdText));
    if (!job || job.engineId !== engineId || job.project !== project) throw engineError('JobNotFound', `job ${jobIdText} of engine ${engineId}`);
    return job;
  }

  /**
   * Where an engine's registry and config center are, for other areas (an environment's `cse`
   * resource, the deployment engine's PAAS_CSE_SC_ENDPOINT / PAAS_CSE_CC_ENDPOINT).
   * `default` is the built-in engine. @throws 400 SVCSTG.00501116 when the project has no such engine
   */
  async endpointsOf(project: string, id: string): Promise<{ id: string; name: string; status: string; authType: 'RBAC' | 'NONE'; registry: string; configCenter: string }> {
    const v = id === BUILT_IN_ENGINE_ID ? this.builtInView(project) : { ...(await this.viewOf(await this.require(project, id))) };
    return { id: v.engine.id, name: v.engine.name, status: v.status, authType: v.engine.authType, registry: v.address, configCenter: v.address };
  }

  /** Who binds an engine (the environments' cse resources); set by server.ts. */
  private boundBy?: (project: string, engineId: string) => Promise<string[]>;

  /** Sets how to find the environments that bind an engine: a bound engine is not deleted. */
  setBoundBy(fn: (project: string, engineId: string) => Promise<string[]>): void {
    this.boundBy = fn;
  }

  // ───────────────────────── writes ─────────────────────────

  /**
   * POST /engines: checks the request, stores the engine (Creating, its root password
   * sealed) and its Create job (Init), then runs the job: data directory and port, the
   * engine process, its health check. @returns the engine id, name and job id
   * @throws 400 SVCSTG.00501201 bad name; 00501104 unknown flavor; 00501103 bad payment;
   *   00501105 bad AZ; 00501134 bad specType; 00501202 bad authType or RBAC password;
   *   00501111 name used in the project; 00501112 more than engines.maxEngines engines
   */
  async create(project: string, user: string, input: CreateEngineInput): Promise<{ id: string; name: string; jobId: number }> {
    if (!NAME_RE.test(input.name)) throw engineError('NameInvalid', `name "${input.name}"`);
    const flavor = FLAVORS.find((f) => f.flavor === input.flavor);
    if (!flavor) throw engineError('FlavorInvalid', `flavor must be one of ${FLAVORS.map((f) => f.flavor).join(', ')}`);
    if (!['0', '1', '2'].includes(input.payment)) throw engineError('PaymentInvalid', `payment "${input.payment}"`);
    if (input.azList.some((az) => az === '' || az.length > 64)) throw engineError('AzInvalid', 'azList entries must be 1 to 64 characters');
    const specType = input.specType || 'CSE2';
    if (specType !== 'CSE' && specType !== 'CSE2') throw engineError('SpecTypeInvalid', `specType "${specType}"`);
    if (input.authType !== 'RBAC' && input.authType !== 'NONE') throw engineError('AuthInvalid', 'authType must be RBAC or NONE');
    let passwordSealed = '';
    if (input.authType === 'RBAC') {
      const pwd = input.password ?? '';
      if (pwd.length < 8 || pwd.length > 32 || PASSWORD_CLASSES.some((re) => !re.test(pwd)) || pwd === 'root' || pwd === 'toor') {
        throw engineError('AuthInvalid', 'auth_cred.pwd must be 8 to 32 characters with an upper-case letter, a lower-case letter, a digit and a special character');
      }
      passwordSealed = this.deps.secrets.encrypt(pwd);
    }
    const { db, clock, config } = this.deps;
    const id = randomUUID();
    const now = clock.now();
    const engine: Engine = {
      id,
      project,
      name: input.name,
      description: input.description ?? '',
      tags: [],
      flavor: flavor.flavor,
      authType: input.authType,
      specType,
      payment: input.payment,
      enterpriseProjectId: input.enterpriseProjectId,
      reference: {
        vpc: input.vpc ?? '',
        vpcId: input.vpcId ?? '',
        azList: input.azList,
        networkId: input.networkId ?? '',
        subnetCidr: input.subnetCidr ?? '',
        publicIpId: input.publicIpId ?? '',
        inputs: input.inputs ?? {},
      },
      status: 'Creating',
      port: 0,
      host: config.host,
      dataDir: resolve(config.engines.dataDir || join(config.dataDir, 'engines'), id),
      passwordSealed,
      latestJobId: 0,
      createUser: user,
      createdAtMs: now,
      updatedAtMs: now,
    };
    let job!: EngineJob;
    try {
      await this.writes.run(() => db.kysely.transaction().execute(async (trx) => {
        await engineStore.lockEngines(trx, db.dialect);
        if ((await engineStore.listEngines(trx, project)).length >= config.engines.maxEngines) throw engineError('QuotaExceeded', `at most ${config.engines.maxEngines} engines per project`);
        job = await this.newJob(trx, engine, 'Create', user);
        engine.latestJobId = job.id;
        await engineStore.insertEngine(trx, engine);
        await engineStore.insertJob(trx, job);
        await this.deps.ownership.claim(trx, ENGINE, id);
      }));
      this.supervised.add(id);
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw engineError('NameUsed', `engine "${input.name}" exists`);
      throw err;
    }
    this.log.info({ engineId: id, jobId: job.id, flavor: flavor.flavor, authType: input.authType }, 'engine create job submitted');
    this.runJob(job, engine, this.createSteps(engine, flavor.instances));
    return { id, name: engine.name, jobId: job.id };
  }

  /**
   * DELETE /engines/{id}: marks the engine Deleting and runs its Delete job (stop the
   * process, check its port is closed, remove its data directory); when the job finishes
   * the engine and its jobs are gone (further calls answer SVCSTG.00501116, which the
   * Terraform provider reads as "deleted"). @throws 400 SVCSTG.00501116 unknown engine;
   * SVCSTG.00501117 the built-in engine, or an engine with a job running
   */
  async delete(project: string, id: string, user: string): Promise<{ id: string; name: string; jobId: number }> {
    if (id === BUILT_IN_ENGINE_ID) throw engineError('CannotDelete', 'the built-in engine cannot be deleted');
    const binders = (await this.boundBy?.(project, id)) ?? [];
    if (binders.length > 0) throw engineError('CannotDelete', `environment(s) ${binders.join(', ')} bind this engine; remove the cse resource first`);
    const { db, clock, feed } = this.deps;
    let engine!: Engine;
    let job!: EngineJob;
    const here = !this.deps.ownership.recorded || this.supervised.has(id);
    await this.writes.run(() =>
      feed.write(async (trx, changes) => {
        await engineStore.lockEngines(trx, db.dialect);
        const found = await engineStore.findEngine(trx, id);
        if (!found || found.project !== project) throw engineError('EngineNotFound', id);
        if (found.status === 'Creating' || found.status === 'Deleting') throw engineError('CannotDelete', `the engine is ${found.status}`);
        engine = found;
        job = await this.newJob(trx, engine, 'Delete', user);
        await engineStore.insertJob(trx, job);
        await engineStore.updateEngine(trx, id, { status: 'Deleting', latestJobId: job.id }, clock.now());
        // Its process runs on its owner's host: the owner runs the job (or its taker, once it died).
        if (!here) changes.emit('engines.job.submitted', { jobId: job.id, engineId: id });
      }),
    );
    this.log.info({ engineId: id, jobId: job.id, here }, 'engine delete job submitted');
    if (here) this.runJob(job, engine, this.deleteSteps(engine));
    return { id, name: engine.name, jobId: job.id };
  }

  /**
   * POST /engines/{id}/tokens: an engine RBAC token (root's, valid 12 h) for an IAM-checked
   * caller. The built-in engine is this server's registry and config center, shared by every
   * project, so its root token goes to the IAM administrator only; an exclusive engine belongs
   * to its project, and any caller allowed in the project gets its token (issue #15 C1).
   * @param caller.administrator whether the caller is the IAM administrator
   * @throws 403 APIGW.0302 the built-in engine and a caller other than the administrator;
   *   400 SVCSTG.00501116 unknown engine; SVCSTG.00501203 the engine has no security
   *   authentication, is not running, or refused the login
   */
  async token(project: string, id: string, caller: { administrator: boolean }): Promise<string> {
    if (id === BUILT_IN_ENGINE_ID) {
      const { rbac, config } = this.deps;
      if (!caller.administrator) throw engineError('TokenForbidden', 'the built-in engine is shared by every project: only the IAM administrator gets its root token');
      if (!rbac) throw engineError('TokenUnavailable', 'the built-in engine has no security authentication (rbac.enabled is false)');
      if (!config.rbac.rootPassword) throw engineError('TokenUnavailable', 'the built-in engine\'s root password is not configured (rbac.rootPassword)');
      try {
        return await rbac.login({ name: 'root', password: config.rbac.rootPassword }, '127.0.0.1');
      } catch (err) {
        throw engineError('TokenUnavailable', err instanceof OpenStageError ? err.message : 'login failed');
      }
    }
    const engine = await this.require(project, id);
    if (engine.authType !== 'RBAC') throw engineError('TokenUnavailable', 'the engine has no security authentication (authType NONE)');
    if (this.liveStatus(engine) !== 'Available') throw engineError('TokenUnavailable', `the engine is ${this.liveStatus(engine)}`);
    return this.login(engine, true);
  }

  /**
   * PUT /engines/{id} (the Terraform provider's description update): sets the description
   * when given (absent = unchanged). @returns the engine as GET shows it
   * @throws 400 SVCSTG.00501116 unknown engine; SVCSTG.00501117 the built-in engine
   */
  async update(project: string, id: string, change: { description?: string }): Promise<EngineView> {
    if (id === BUILT_IN_ENGINE_ID) throw engineError('CannotDelete', 'the built-in engine cannot be modified');
    await this.writes.run(async () => {
      await this.require(project, id);
      await engineStore.updateEngineInfo(this.deps.db.kysely, id, change, this.deps.clock.now());
    });
    return this.get(project, id);
  }

  /**
   * Adds (`create`) or removes (`delete`) resource tags (`/v2/{project}/cseEngines/{id}/tags/…`,
   * the Huawei tag-management API the Terraform provider calls): create replaces the value of
   * a key already there; delete removes the keys named (a value, when given, must match).
   * @throws 400 SVCSTG.00501116 unknown engine; SVCSTG.00500400 a bad tag or more than 20
   */
  async changeTags(project: string, id: string, action: 'create' | 'delete', tags: EngineTag[]): Promise<void> {
    if (id === BUILT_IN_ENGINE_ID) throw engineError('InvalidParameter', 'the built-in engine has no tags');
    await this.writes.run(async () => {
      const engine = await this.require(project, id);
      let next = engine.tags.filter((t) => !tags.some((n) => n.key === t.key && (action === 'create' || n.value === undefined || n.value === '' || n.value === t.value)));
      if (action === 'create') next = [...next, ...tags.map((t) => ({ key: t.key, value: t.value ?? '' }))];
      if (next.length > 20) throw engineError('InvalidParameter', 'an engine has at most 20 tags');
      await engineStore.updateEngineInfo(this.deps.db.kysely, id, { tags: next }, this.deps.clock.now());
    });
  }

  /**
   * The config center a CSE import or export aimed at engine `id` acts on (`X-Engine-ID`,
   * servicecomb.md §4.1): undefined for the built-in engine (this server's own config
   * center), else the engine process's address and, for an RBAC engine, root's token.
   * @throws 400 SVCSTG.00501116 unknown engine; SVCSTG.00501203 the engine is not running or
   *   refused the login
   */
  async configCenterOf(project: string, id: string): Promise<{ base: string; token?: string } | undefined> {
    if (id === BUILT_IN_ENGINE_ID) return undefined;
    const engine = await this.require(project, id);
    const status = this.liveStatus(engine);
    if (status !== 'Available') throw engineError('TokenUnavailable', `the engine is ${status}`);
    const base = this.addressOf(engine.port);
    return engine.authType === 'RBAC' ? { base, token: await this.login(engine) } : { base };
  }

  // ───────────────────────── internals ─────────────────────────

  private async require(project: string, id: string): Promise<Engine> {
    const engine = await engineStore.findEngine(this.deps.db.kysely, id);
    if (!engine || engine.project !== project) throw engineError('EngineNotFound', id);
    return engine;
  }

  private async newJob(trx: Parameters<typeof engineStore.nextJobId>[0], engine: Engine, type: JobType, user: string): Promise<EngineJob> {
    const now = this.deps.clock.now();
    return { id: await engineStore.nextJobId(trx), engineId: engine.id, project: engine.project, type, description: `${type} engine ${engine.name}`, status: 'Init', createUser: user, startTimeMs: now, endTimeMs: 0, tasks: [] };
  }

  private launchOf(engine: Engine, instances?: number): EngineLaunch {
    const host = this.deps.config.host;
    return {
      engineId: engine.id,
      port: engine.port,
      host,
      dataDir: engine.dataDir,
      instances: instances ?? FLAVORS.find((f) => f.flavor === engine.flavor)?.instances ?? 100,
      ...(engine.authType === 'RBAC' ? { rootPassword: this.deps.secrets.decrypt(engine.passwordSealed) } : {}),
    };
  }

  /** The address clients reach an engine at (its owner's listen host, loopback for a wildcard). */
  private addressOf(port: number, engineHost?: string): string {
    const host = engineHost || this.deps.config.host;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    return `http://${shown}:${port}`;
  }

  /** A port for a new engine: the first free one of engines.portMin..portMax, or any with portMin 0. */
  private async choosePort(): Promise<number> {
    const { portMin, portMax } = this.deps.config.engines;
    const host = this.deps.config.host;
    if (portMin === 0) return anyFreePort(host);
    const used = new Set([...this.reservedPorts, ...(await engineStore.listEngines(this.deps.db.kysely)).map((e) => e.port)]);
    for (let p = portMin; p <= portMax; p++) {
      if (used.has(p)) continue;
      this.reservedPorts.add(p);
      if (await portFree(host, p)) return p;
      this.reservedPorts.delete(p);
    }
    throw new Error(`no free port in engines.portMin..portMax (${portMin}-${portMax})`);
  }

  private createSteps(engine: Engine, instances: number): Step[] {
    const { config, db, clock } = this.deps;
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    return [
      {
        name: 'Prepare engine resources',
        timeoutMs: 30_000,
        run: async ({ log }) => {
          engine.port = await this.choosePort();
          mkdirSync(engine.dataDir, { recursive: true, mode: 0o700 });
          await engineStore.updateEngine(db.kysely, engine.id, { port: engine.port }, clock.now());
          this.reservedPorts.delete(engine.port);
          log(`port ${engine.port}, data directory ${engine.dataDir}, instance quota ${instances}`);
        },
      },
      {
        name: 'Start engine process',
        timeoutMs: 30_000,
        run: async ({ log }) => {
          const state = await this.processes.runtime.start(this.processes.specOf(this.launchOf(engine, instances)));
          await engineStore.setEngineProcess(db.kysely, engine.id, state.pid, state.startTicks);
          log(`process ${state.pid} started${engine.authType === 'RBAC' ? ' with RBAC' : ''}`);
        },
      },
      {
        name: 'Wait for engine health check',
        timeoutMs: config.engines.startTimeoutSeconds * 1000,
        run: async ({ signal, log }) => {
          await this.processes.waitHealthy(host, engine.port, signal, log);
        },
      },
    ];
  }

  private deleteSteps(engine: Engine): Step[] {
    const { config } = this.deps;
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    return [
      {
        name: 'Stop engine process',
        timeoutMs: config.engines.stopTimeoutSeconds * 1000,
        run: async ({ log }) => {
          const exit = await this.processes.runtime.stop(engine.id);
          if (!exit && engine.pid !== undefined && engine.startTicks !== undefined && processStartTicks(engine.pid) === engine.startTicks) {
            signalGroup(engine.pid, 'SIGTERM');
            while (processStartTicks(engine.pid) === engine.startTicks) await new Promise((r) => setTimeout(r, 50));
          }
          log(exit ? `process ended (code ${exit.code}, signal ${exit.signal})` : 'no process was running');
          if (engine.port > 0) {
            while (!(await portFree(host, engine.port))) await new Promise((r) => setTimeout(r, 50));
            log(`port ${engine.port} closed`);
          }
        },
      },
      {
        name: 'Remove engine data',
        timeoutMs: 60_000,
        run: async ({ log }) => {
          rmSync(engine.dataDir, { recursive: true, force: true });
          log(`removed ${engine.dataDir}`);
        },
      },
    ];
  }

  /** Runs a job's steps in the background; the job's outcome is stored, never thrown. */
  private runJob(job: EngineJob, engine: Engine, steps: Step[]): void {
    const controller = new AbortController();
    const done = this.execute(job, engine, steps, controller)
      .catch((err: unknown) => this.log.error({ err, jobId: job.id }, 'engine job runner failed'))
      .finally(() => this.running.delete(job.id));
    this.running.set(job.id, { controller, done });
  }

  private async execute(job: EngineJob, engine: Engine, steps: Step[], controller: AbortController): Promise<void> {
    const { db, clock } = this.deps;
    job.tasks = steps.map((s) => ({ name: s.name, status: 'Init', startTimeMs: 0, endTimeMs: 0, timeoutMs: s.timeoutMs, messages: [] }));
    job.status = 'Executing';
    job.startTimeMs = clock.now();
    await engineStore.updateJob(db.kysely, job);
    let outcome: JobStatus = 'Finished';
    for (const [i, step] of steps.entries()) {
      const task = job.tasks[i]!;
      if (outcome !== 'Finished') continue;
      outcome = await this.runStep(job, task, step, controller);
    }
    job.status = outcome;
    job.endTimeMs = clock.now();
    const now = clock.now();
    if (job.type === 'Delete' && outcome === 'Finished') {
      await db.kysely.transaction().execute(async (trx) => {
        await engineStore.deleteEngine(trx, engine.id);
        await this.deps.ownership.release(trx, ENGINE, engine.id);
      });
      this.supervised.delete(engine.id);
      this.usage.delete(engine.id);
      this.tokens.delete(engine.id);
    } else {
      if (outcome !== 'Finished' && job.type === 'Create') {
        // A half-created engine does not keep running.
        await this.processes.runtime.stop(engine.id).catch(() => undefined);
      }
      const status = job.type === 'Create' ? (outcome === 'Finished' ? 'Available' : 'CreateFailed') : 'DeleteFailed';
      await db.kysely.transaction().execute(async (trx) => {
        await engineStore.updateJob(trx, job);
        await engineStore.updateEngine(trx, engine.id, { status }, now);
      });
    }
    this.log.info({ jobId: job.id, engineId: engine.id, type: job.type, status: outcome }, 'engine job ended');
  }

  /** Runs one step under its timeout and the job's abort. @returns the job status it leaves */
  private async runStep(job: EngineJob, task: JobTask, step: Step, jobController: AbortController): Promise<JobStatus> {
    const { db, clock } = this.deps;
    const controller = new AbortController();
    const onJobAbort = (): void => controller.abort(jobController.signal.reason);
    if (jobController.signal.aborted || this.stopping) controller.abort(new Abort('shutdown', 'interrupted: the server is stopping'));
    else jobController.signal.addEventListener('abort', onJobAbort, { once: true });
    task.status = 'Executing';
    task.startTimeMs = clock.now();
    await engineStore.updateJob(db.kysely, job);
    const cancelTimer = clock.after(step.timeoutMs, () => controller.abort(new Abort('timeout', `timed out after ${Math.round(step.timeoutMs / 1000)} s`)));
    const aborted = new Promise<never>((_, reject) => {
      if (controller.signal.aborted) reject(controller.signal.reason);
      else controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    aborted.catch(() => undefined);
    let status: JobStatus = 'Finished';
    try {
      await Promise.race([step.run({ signal: controller.signal, log: (line) => task.messages.push(line) }), aborted]);
    } catch (err) {
      status = err instanceof Abort && err.kind === 'timeout' ? 'Timeout' : 'Error';
      task.messages.push(err instanceof Abort ? err.message : `failed: ${(err as Error)?.message ?? String(err)}`);
    } finally {
      cancelTimer();
      jobController.signal.removeEventListener('abort', onJobAbort);
      if (!controller.signal.aborted) controller.abort(new Abort('shutdown', 'step ended'));
    }
    task.status = status;
    task.endTimeMs = clock.now();
    await engineStore.updateJob(db.kysely, job);
    return status;
  }

  /**
   * Available ↔ Unavailable by whether the engine process is up right now (as its owner
   * records it when another server supervises it).
   */
  private liveStatus(engine: Engine): Engine['status'] {
    if (engine.status !== 'Available' && engine.status !== 'Unavailable') return engine.status;
    const local = this.processes.runtime.status(engine.id);
    if (!local) return this.deps.ownership.recorded ? engine.status : 'Unavailable';
    return local.state === 'running' ? 'Available' : 'Unavailable';
  }

  /** Logs in to an RBAC engine as root (cached for an hour unless `fresh`). */
  private async login(engine: Engine, fresh = false): Promise<string> {
    const now = this.deps.clock.now();
    const cached = this.tokens.get(engine.id);
    if (!fresh && cached && cached.expiresAtMs > now) return cached.token;
    let r;
    try {
      r = await callEngine(this.addressOf(engine.port, engine.host), 'POST', '/v4/token', { body: { name: 'root', password: this.deps.secrets.decrypt(engine.passwordSealed) } });
    } catch (err) {
      throw engineError('TokenUnavailable', `the engine does not answer: ${(err as Error).message}`);
    }
    if (r.status !== 200 || typeof r.body?.token !== 'string') throw engineError('TokenUnavailable', `the engine refused the login (${r.status})`);
    this.tokens.set(engine.id, { token: r.body.token as string, expiresAtMs: now + 3_600_000 });
    return r.body.token as string;
  }

  /** Used instances of an engine, asked of it at most every engines.usageCacheMs. */
  private async usedInstances(engine: Engine, status: Engine['status']): Promise<number> {
    const now = this.deps.clock.now();
    const cached = this.usage.get(engine.id);
    if (status !== 'Available') return cached?.used ?? 0;
    if (cached && now - cached.atMs < this.deps.config.engines.usageCacheMs) return cached.used;
    try {
      const token = engine.authType === 'RBAC' ? await this.login(engine) : undefined;
      const used = await countInstances(this.addressOf(engine.port, engine.host), token);
      this.usage.set(engine.id, { used, atMs: now });
      return used;
    } catch (err) {
      this.log.debug({ err, engineId: engine.id }, 'engine usage not available');
      return cached?.used ?? 0;
    }
  }

  private async viewOf(engine: Engine): Promise<EngineView> {
    const status = this.liveStatus(engine);
    const total = FLAVORS.find((f) => f.flavor === engine.flavor)?.instances ?? 0;
    return { engine, beDefault: false, status, address: engine.port > 0 ? this.addressOf(engine.port, engine.host) : '', totalInstance: total, usedInstance: await this.usedInstances(engine, status), version: VERSION };
  }

  /** The built-in engine as an Engine view: this server's own registry and config center. */
  private builtInView(project: string): EngineView {
    const { config, registry } = this.deps;
    let used = 0;
    for (const s of registry.listServices('default/default', false)) {
      const found = JSON.parse(registry.listInstances('default/default', s.serviceId, undefined, []).body.toString('utf8')) as { instances?: unknown[] };
      used += found.instances?.length ?? 0;
    }
    const engine: Engine = {
      id: BUILT_IN_ENGINE_ID,
      project,
      name: 'default',
      description: 'The OpenStage server\'s own registry and config center',
      tags: [],
      flavor: 'cse.s1.default',
      authType: config.rbac.enabled ? 'RBAC' : 'NONE',
      specType: 'CSE2',
      payment: '2',
      enterpriseProjectId: '0',
      reference: { vpc: '', vpcId: '', azList: [], networkId: '', subnetCidr: '', publicIpId: '', inputs: {} },
      status: 'Available',
      port: 0,
      dataDir: '',
      passwordSealed: '',
      latestJobId: 0,
      createUser: 'openstage',
      createdAtMs: 0,
      updatedAtMs: 0,
    };
    return { engine, beDefault: true, status: 'Available', address: this.builtInAddress, totalInstance: config.quota.instances, usedInstance: used, version: VERSION };
  }
}

