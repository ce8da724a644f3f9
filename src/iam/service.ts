import { randomBytes } from 'node:crypto';
import { LoginBackoff, loginKeys, PasswordCheckGate, retryAfterSeconds } from '../core/backoff.js';
import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import { ConfigError, type Config } from '../core/config.js';
import type { Db, Executor } from '../core/db/kysely.js';
import { AlreadyExistsError } from '../core/errors.js';
import type { ChangeFeed } from '../core/feed.js';
import { newHexId } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import { hashPassword, safeEqual, SecretBox, tokenDigest, verifyPassword, WRONG_MASTER_KEY } from '../core/secrets.js';
import { iamError } from './errors.js';
import { canonicalRequest, parseAuthorization, parseSdkDate, sign, stringToSign, type SignableRequest, type SignatureHeader } from './signature.js';
import * as iamStore from './store.js';
import type { AccessKey, IamEvents, Principal, Project, TokenRecord, User } from './types.js';

/** Secrets generated at bootstrap, to be shown to the operator once (never logged). */
export interface BootstrapReport {
  adminName: string;
  adminPassword?: string;
  projectId: string;
  projectName: string;
  accessKey: string;
  secretKey?: string;
}

/** A password login (Keystone `password` method) with its scope. */
export interface PasswordLogin {
  userName: string;
  password: string;
  domainName?: string;
  /** Project scope by id or by name; absent = domain scope. */
  projectId?: string;
  projectName?: string;
  /** When given, the user's domain must have this id. */
  domainId?: string;
}

/** Dependencies of IamService. */
export interface IamDeps {
  db: Db;
  bus: Bus<IamEvents>;
  /** Every write goes through it; the in-memory maps follow its changes on every server. */
  feed: ChangeFeed<IamEvents>;
  clock: Clock;
  log: Logger;
  config: Readonly<Config>;
  secrets: SecretBox;
}

const NAME_RE = /^[A-Za-z0-9_\-. ]{1,64}$/;
const AK_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomText(length: number, alphabet: string): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i]! % alphabet.length];
  return out;
}

/**
 * IAM-compatible identity (issue #3, servicestage.md §1): users, projects, memberships,
 * access keys (secret keys sealed with the master key), project-scoped tokens (24 h by
 * default, only their SHA-256 stored) and AK/SK signature checks. Users, projects,
 * memberships and keys are held in memory, kept by the feed's changes (`iam.*`) on every
 * server; token records are cached and a revocation reaches every server's cache.
 */
export class IamService {
  private readonly users = new Map<string, User>();
  private readonly projects = new Map<string, Project>();
  private readonly members = new Map<string, Set<string>>();
  private readonly keys = new Map<string, { key: AccessKey; secretKey: string }>();
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly db: Db;
  private readonly feed: ChangeFeed<IamEvents>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly config: Readonly<Config>;
  private readonly secrets: SecretBox;
  private readonly backoff: LoginBackoff;
  /** Password hashing of logins, two at a time, clean attempts first (issue #15 M4). */
  private readonly passwordChecks = new PasswordCheckGate(2);
  /** A hash no password matches, verified when no user has the name (same cost, issue #15 M4). */
  private dummyHash?: Promise<string>;

  constructor(deps: IamDeps) {
    this.db = deps.db;
    this.feed = deps.feed;
    this.clock = deps.clock;
    this.log = deps.log.child({ area: 'iam' });
    this.config = deps.config;
    this.secrets = deps.secrets;
    const l = deps.config.login;
    this.backoff = new LoginBackoff(deps.clock, { windowMs: l.windowSeconds * 1000, maxWaitMs: l.maxWaitSeconds * 1000 });
    const on = deps.bus.subscribe.bind(deps.bus);
    on('iam.user.created', ({ user }) => void this.users.set(user.id, user));
    on('iam.project.created', ({ project }) => void this.projects.set(project.id, project));
    on('iam.member.added', ({ userId, projectId }) => void this.memberSet(userId).add(projectId));
    on('iam.key.put', ({ key, secretSealed }) => void this.keys.set(key.accessKey, { key, secretKey: this.open(secretSealed) }));
    on('iam.key.deleted', ({ accessKey }) => void this.keys.delete(accessKey));
    on('iam.token.revoked', ({ digest }) => void this.tokens.delete(digest));
  }

  /** Users, projects, memberships and keys from the tables (`db`: the feed's snapshot on PostgreSQL). @throws ConfigError when the master key cannot open the keys */
  async load(db: Executor): Promise<void> {
    this.users.clear();
    this.projects.clear();
    this.members.clear();
    this.keys.clear();
    for (const u of await iamStore.listUsers(db)) this.users.set(u.id, u);
    for (const p of await iamStore.listProjects(db)) this.projects.set(p.id, p);
    for (const m of await iamStore.listMemberships(db)) this.memberSet(m.userId).add(m.projectId);
    for (const { key, secretSealed } of await iamStore.listAccessKeys(db)) this.keys.set(key.accessKey, { key, secretKey: this.open(secretSealed) });
  }

  private open(sealed: string): string {
    try {
      return this.secrets.decrypt(sealed);
    } catch {
      throw new ConfigError(WRONG_MASTER_KEY);
    }
  }

  /**
   * Loads users, projects, memberships and keys, then makes sure the bootstrap admin, the
   * default project and the admin's access key exist — as the `iam.*` settings (the
   * OPENSTAGE_ADMIN_PASSWORD, OPENSTAGE_PROJECT_ID, OPENSTAGE_ACCESS_KEY and
   * OPENSTAGE_SECRET_KEY variables) fix them, or generated on first start.
   * @returns what was generated, to show once; undefined fields were not generated
   */
  async start(): Promise<BootstrapReport> {
    const c = this.config.iam;
    const report: Partial<BootstrapReport> = { adminName: c.adminName };
    let admin = [...this.users.values()].find((u) => u.name === c.adminName && u.domainName === c.domainName);
    if (!admin) {
      const password = c.adminPassword || randomText(20, 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789') + '!';
      admin = await this.createUser(c.adminName, password, c.domainName);
      if (!c.adminPassword) report.adminPassword = password;
    } else if (c.adminPassword) {
      const stored = await iamStore.findUserByName(this.db.kysely, c.domainName, c.adminName);
      if (stored && !(await verifyPassword(c.adminPassword, stored.passwordHash))) await iamStore.setPassword(this.db.kysely, admin.id, await hashPassword(c.adminPassword, this.config.secrets.passwordHashLog2N));
    }
    let project = c.projectId ? this.projects.get(c.projectId) : [...this.projects.values()].find((p) => p.domainId === admin!.domainId && p.name === c.projectName);
    if (!project) {
      const nameTaken = [...this.projects.values()].some((p) => p.domainId === admin!.domainId && p.name === c.projectName);
      const id = c.projectId || newHexId();
      project = await this.createProject(nameTaken ? `${c.projectName}-${id.slice(0, 8)}` : c.projectName, admin.domainId, id);
    }
    await this.addMember(admin.id, project.id);
    report.projectId = project.id;
    report.projectName = project.name;
    const adminKeys = [...this.keys.values()].filter((k) => k.key.userId === admin!.id);
    if (c.accessKey) {
      const existing = this.keys.get(c.accessKey);
      if (!existing || (c.secretKey && !safeEqual(existing.secretKey, c.secretKey))) {
        const created = await this.createAccessKey(admin.id, c.accessKey, c.secretKey || undefined);
        if (!c.secretKey) report.secretKey = created.secretKey;
      }
      report.accessKey = c.accessKey;
    } else if (adminKeys.length === 0) {
      const created = await this.createAccessKey(admin.id);
      report.accessKey = created.accessKey;
      report.secretKey = created.secretKey;
    } else {
      report.accessKey = adminKeys[0]!.key.accessKey;
    }
    await iamStore.deleteExpiredTokens(this.db.kysely, this.clock.now());
    return report as BootstrapReport;
  }

  private memberSet(userId: string): Set<string> {
    let set = this.members.get(userId);
    if (!set) this.members.set(userId, (set = new Set()));
    return set;
  }

  // ───────────────────────── administration (CLI) ─────────────────────────

  /** Creates a user in `domainName` (a new domain id when the domain is new). @throws IAM.0001 bad name/password; IAM.0005 exists */
  async createUser(name: string, password: string, domainName = this.config.iam.domainName): Promise<User> {
    if (!NAME_RE.test(name)) throw iamError('InvalidArgument', 'user name must be 1-64 letters, digits, spaces or _-.');
    if (password.length < 8) throw iamError('InvalidArgument', 'password must have at least 8 characters');
    const domainId = [...this.users.values()].find((u) => u.domainName === domainName)?.domainId ?? newHexId();
    const user: User = { id: newHexId(), name, domainId, domainName, createdAtMs: this.clock.now() };
    const passwordHash = await hashPassword(password, this.config.secrets.passwordHashLog2N);
    try {
      await this.feed.write(async (trx, changes) => {
        await iamStore.createUser(trx, user, passwordHash);
        changes.emit('iam.user.created', { user });
      });
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw iamError('AlreadyExists', err.message);
      throw err;
    }
    this.log.info({ userId: user.id, name }, 'user created');
    return user;
  }

  /** Creates a project; `id` defaults to 32 random hex characters. @throws IAM.0001; IAM.0005 */
  async createProject(name: string, domainId: string, id: string = newHexId()): Promise<Project> {
    if (!NAME_RE.test(name)) throw iamError('InvalidArgument', 'project name must be 1-64 letters, digits or _-.');
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw iamError('InvalidArgument', 'project id must be 1-64 letters, digits, _ or -');
    const project: Project = { id, name, domainId, createdAtMs: this.clock.now() };
    try {
      await this.feed.write(async (trx, changes) => {
        await iamStore.createProject(trx, project);
        changes.emit('iam.project.created', { project });
      });
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw iamError('AlreadyExists', err.message);
      throw err;
    }
    this.log.info({ projectId: id, name }, 'project created');
    return project;
  }

  /** Makes a user a member of a project. @throws IAM.0004 unknown user or project */
  async addMember(userId: string, projectId: string): Promise<void> {
    if (!this.users.has(userId)) throw iamError('NotFound', `user ${userId}`);
    if (!this.projects.has(projectId)) throw iamError('NotFound', `project ${projectId}`);
    await this.feed.write(async (trx, changes) => {
      await iamStore.addMember(trx, userId, projectId);
      changes.emit('iam.member.added', { userId, projectId });
    });
  }

  /**
   * Creates (or replaces) an access key for a user; the secret key is sealed at rest.
   * @returns the key id and the secret key (shown once)
   * @throws IAM.0004 unknown user; IAM.0001 malformed key
   */
  async createAccessKey(userId: string, accessKey = randomText(20, AK_ALPHABET), secretKey = randomText(40, `${AK_ALPHABET}abcdefghijklmnopqrstuvwxyz`)): Promise<{ accessKey: string; secretKey: string }> {
    if (!this.users.has(userId)) throw iamError('NotFound', `user ${userId}`);
    if (!/^[A-Za-z0-9]{8,64}$/.test(accessKey) || secretKey.length < 8) throw iamError('InvalidArgument', 'access key must be 8-64 letters or digits and the secret at least 8 characters');
    const key: AccessKey = { accessKey, userId, status: 'active', createdAtMs: this.clock.now() };
    const secretSealed = this.secrets.encrypt(secretKey);
    await this.feed.write(async (trx, changes) => {
      await iamStore.putAccessKey(trx, key, secretSealed);
      changes.emit('iam.key.put', { key, secretSealed });
    });
    this.log.info({ userId, accessKey }, 'access key created');
    return { accessKey, secretKey };
  }

  /** Deletes an access key. @throws IAM.0004 when unknown */
  async deleteAccessKey(accessKey: string): Promise<void> {
    await this.feed.write(async (trx, changes) => {
      if ((await iamStore.deleteAccessKey(trx, accessKey)) === 0) throw iamError('NotFound', `access key ${accessKey}`);
      changes.emit('iam.key.deleted', { accessKey });
    });
  }

  /** Every user with the ids of its projects. */
  listUsers(): (User & { projectIds: string[] })[] {
    return [...this.users.values()].map((u) => ({ ...u, projectIds: [...(this.members.get(u.id) ?? [])] }));
  }

  /** Every project. */
  listProjects(): Project[] {
    return [...this.projects.values()];
  }

  /** Every access key (without secrets). */
  listAccessKeys(): AccessKey[] {
    return [...this.keys.values()].map((k) => k.key);
  }

  /** A user by name (in the default domain unless given). */
  findUserByName(name: string, domainName = this.config.iam.domainName): User | undefined {
    return [...this.users.values()].find((u) => u.name === name && u.domainName === domainName);
  }

  // ───────────────────────── tokens ─────────────────────────

  /**
   * Password login (`POST /v3/auth/tokens`). The user must be a member of the scoped project.
   * A name no user has costs one password hash like a wrong password (no enumeration by
   * timing); failures back off per user, per client address and per pair (`login.*`), and
   * while one of them waits the login is refused before any hash is computed (issue #15 M4).
   * @param address the client's address (backoff key)
   * @returns the token text (for `X-Subject-Token`) and its record
   * @throws IAM.0101 (401) wrong name or password; IAM.0102 (401, `retryAfterSeconds` set)
   *   too many failures, wait; APIGW.0302 (403) not a member; IAM.0001 bad scope
   */
  async issueToken(login: PasswordLogin, address: string): Promise<{ token: string; record: TokenRecord }> {
    const attempt = this.backoff.begin(loginKeys(`${login.domainName ?? login.domainId ?? '*'}/${login.userName}`, address, this.config.login));
    if ('waitMs' in attempt) throw iamError('Locked', `too many failed logins; retry in ${retryAfterSeconds(attempt.waitMs)} s`, retryAfterSeconds(attempt.waitMs));
    let user: User | undefined;
    try {
      const candidates = login.domainName
        ? [await iamStore.findUserByName(this.db.kysely, login.domainName, login.userName)].filter((x) => x !== undefined)
        : await iamStore.findUsersByName(this.db.kysely, login.userName);
      user = await this.passwordChecks.run(attempt.clean, async () => {
        let found: User | undefined;
        for (const c of candidates) if (await verifyPassword(login.password, c!.passwordHash)) found = c!.user;
        if (candidates.length === 0) await verifyPassword(login.password, await this.dummyPasswordHash());
        return found;
      });
    } finally {
      if (!user || (login.domainId !== undefined && login.domainId !== user.domainId)) attempt.fail();
      else attempt.succeed();
    }
    if (!user || (login.domainId !== undefined && login.domainId !== user.domainId)) throw iamError('BadCredentials');
    const projectId = this.scopedProjectId(user, login.projectId, login.projectName);
    const now = this.clock.now();
    return this.storeToken(user.id, projectId, now + this.config.iam.tokenTtlSeconds * 1000);
  }

  /**
   * Token login (Keystone `token` method, `POST /v3/auth/tokens`): a new token for the same
   * user scoped to another of its projects (the console's project switch). Like Keystone, the
   * new token ends when the one presented does.
   * @returns the token text and its record
   * @throws APIGW.0301 (401) the presented token is invalid or expired; APIGW.0302 (403) not a
   *   member; IAM.0001 bad scope
   */
  async rescopeToken(token: string, scope: { projectId?: string; projectName?: string }): Promise<{ token: string; record: TokenRecord }> {
    const presented = await this.validateToken(token);
    const user = this.users.get(presented.userId)!;
    return this.storeToken(user.id, this.scopedProjectId(user, scope.projectId, scope.projectName), presented.expiresAtMs);
  }

  /** The id of the project a login scopes to ('' = domain scope). @throws IAM.0001 unknown project; APIGW.0302 not a member */
  private scopedProjectId(user: User, projectId: string | undefined, projectName: string | undefined): string {
    if (projectId === undefined && projectName === undefined) return '';
    const project = projectId !== undefined ? this.projects.get(projectId) : [...this.projects.values()].find((p) => p.name === projectName && p.domainId === user.domainId);
    if (!project) throw iamError('InvalidArgument', 'the scoped project does not exist');
    if (!this.members.get(user.id)?.has(project.id)) throw iamError('Forbidden', 'the user is not a member of the scoped project');
    return project.id;
  }

  /** Issues and stores a new token. @param expiresAtMs when it ends, ms since the epoch */
  private async storeToken(userId: string, projectId: string, expiresAtMs: number): Promise<{ token: string; record: TokenRecord }> {
    const token = `MII${randomBytes(48).toString('base64url')}`;
    const record: TokenRecord = { digest: tokenDigest(token), userId, projectId, issuedAtMs: this.clock.now(), expiresAtMs };
    await iamStore.createToken(this.db.kysely, record);
    this.tokens.set(record.digest, record);
    return { token, record };
  }

  private dummyPasswordHash(): Promise<string> {
    this.dummyHash ??= hashPassword(randomBytes(24).toString('base64'), this.config.secrets.passwordHashLog2N);
    return this.dummyHash;
  }

  /** The live record of a token. @throws APIGW.0301 (401) unknown, revoked or expired */
  async validateToken(token: string): Promise<TokenRecord> {
    const digest = tokenDigest(token);
    let record = this.tokens.get(digest);
    if (!record) {
      record = await iamStore.findToken(this.db.kysely, digest);
      if (record) {
        if (this.tokens.size > 100_000) this.tokens.clear();
        this.tokens.set(digest, record);
      }
    }
    if (!record) throw iamError('Unauthenticated', 'the token is invalid or revoked');
    if (record.expiresAtMs <= this.clock.now()) throw iamError('Unauthenticated', 'the token has expired');
    if (!this.users.has(record.userId)) throw iamError('Unauthenticated', 'the token user no longer exists');
    return record;
  }

  /** Revokes a token (idempotent for a known token). @throws APIGW.0301 unknown or expired */
  async revokeToken(token: string): Promise<void> {
    const record = await this.validateToken(token);
    await this.feed.write(async (trx, changes) => {
      await iamStore.deleteToken(trx, record.digest);
      changes.emit('iam.token.revoked', { digest: record.digest });
    });
  }

  /** The Keystone token body of a record (Huawei IAM "Obtaining an IAM user token" response). */
  tokenBody(record: TokenRecord, method: 'password' | 'token' = 'password'): Record<string, unknown> {
    const user = this.users.get(record.userId)!;
    const domain = { id: user.domainId, name: user.domainName };
    const project = record.projectId ? this.projects.get(record.projectId) : undefined;
    return {
      token: {
        methods: [method],
        expires_at: new Date(record.expiresAtMs).toISOString().replace('Z', '000Z'),
        issued_at: new Date(record.issuedAtMs).toISOString().replace('Z', '000Z'),
        user: { id: user.id, name: user.name, domain, password_expires_at: '' },
        ...(project ? { project: { id: project.id, name: project.name, domain } } : { domain }),
        roles: [user.name === this.config.iam.adminName && user.domainName === this.config.iam.domainName ? { id: '0', name: 'te_admin' } : { id: '1', name: 'member' }],
        catalog: [],
      },
    };
  }

  // ───────────────────────── request authentication ─────────────────────────

  /**
   * Establishes who sent a request: an `X-Auth-Token`, or an AK/SK signature in
   * `Authorization` (with `X-Sdk-Date` within `iam.signatureSkewSeconds` of the clock, `host`
   * and `x-sdk-date` signed, and the body hash checked — `UNSIGNED-PAYLOAD` only for
   * multipart bodies, as the SDKs send it). When `projectId` is given the caller must belong
   * to it (a token: be scoped to it), and an `X-Project-Id` header must name the same project.
   * @throws APIGW.0301 (401) missing or bad credential; APIGW.0302 (403) wrong project
   */
  async authenticate(req: SignableRequest, projectId?: string): Promise<Principal> {
    const byToken = await this.authenticateToken(req, projectId);
    if (byToken) return byToken;
    const { parsed, secretKey, principal } = this.checkSignatureHeaders(req, projectId);
    const expected = sign(secretKey, stringToSign(canonicalRequest(req, parsed.signedHeaders), headerOf(req, 'x-sdk-date')!));
    if (!safeEqual(expected, parsed.signature)) throw iamError('Unauthenticated', 'verify aksk signature fail');
    return principal;
  }

  /**
   * What `authenticate` can check before the body is read (issue #15 H2): a token entirely;
   * of a signature everything but the signature itself (format, date, key, signed headers,
   * project). A request without either credential is refused here.
   * @returns the caller when the request carries a token; undefined when its AK/SK signature
   *   still has to be checked over the body (`authenticate`)
   * @throws as `authenticate`
   */
  async authenticateHeaders(req: Omit<SignableRequest, 'body'>, projectId?: string): Promise<Principal | undefined> {
    const byToken = await this.authenticateToken(req, projectId);
    if (byToken) return byToken;
    this.checkSignatureHeaders(req, projectId);
    return undefined;
  }

  private async authenticateToken(req: Omit<SignableRequest, 'body'>, projectId: string | undefined): Promise<Principal | undefined> {
    const token = headerOf(req, 'x-auth-token');
    if (!token) {
      if (!headerOf(req, 'authorization')) throw iamError('Unauthenticated', 'no X-Auth-Token or Authorization header');
      return undefined;
    }
    const record = await this.validateToken(token);
    const user = this.users.get(record.userId)!;
    const principal: Principal = { method: 'token', userId: user.id, userName: user.name, domainId: user.domainId, domainName: user.domainName, projectIds: new Set(record.projectId ? [record.projectId] : []) };
    checkProject(req, principal, projectId);
    return principal;
  }

  private checkSignatureHeaders(req: Omit<SignableRequest, 'body'>, projectId: string | undefined): { parsed: SignatureHeader; secretKey: string; principal: Principal } {
    const parsed = parseAuthorization(headerOf(req, 'authorization') ?? '');
    if (!parsed) throw iamError('Unauthenticated', 'the Authorization header is not an SDK-HMAC-SHA256 signature');
    const sdkDate = headerOf(req, 'x-sdk-date');
    if (!sdkDate) throw iamError('Unauthenticated', 'X-Sdk-Date is required with an AK/SK signature');
    const at = parseSdkDate(sdkDate);
    if (Number.isNaN(at)) throw iamError('Unauthenticated', 'X-Sdk-Date must look like 20191115T033655Z');
    if (Math.abs(this.clock.now() - at) > this.config.iam.signatureSkewSeconds * 1000) throw iamError('Unauthenticated', 'signature expired: X-Sdk-Date is too far from the server time');
    if (!parsed.signedHeaders.includes('x-sdk-date')) throw iamError('Unauthenticated', 'X-Sdk-Date must be a signed header');
    // Host is not required among the signed headers (issue #15 L4 asked for it): the Huawei Cloud
    // Go SDK (v0.1.224) signs the headers of its request map, which never holds Host, so
    // requiring it refuses every Go SDK call — and a real client wins. X-Sdk-Date (signed, within
    // iam.signatureSkewSeconds) and the signed path and body still bind the signature.
    // The SDKs declare UNSIGNED-PAYLOAD only for bodies that are not JSON (uploads); on a JSON
    // body it would let any body ride on a captured signature (issue #15 L4).
    if (headerOf(req, 'x-sdk-content-sha256') === 'UNSIGNED-PAYLOAD' && !/^multipart\/form-data\b/i.test(headerOf(req, 'content-type') ?? '')) {
      throw iamError('Unauthenticated', 'X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD is accepted only on multipart/form-data bodies');
    }
    const key = this.keys.get(parsed.accessKey);
    if (!key || key.key.status !== 'active') throw iamError('Unauthenticated', 'verify aksk signature fail: unknown access key');
    const user = this.users.get(key.key.userId);
    if (!user) throw iamError('Unauthenticated', 'the key owner no longer exists');
    const principal: Principal = { method: 'aksk', userId: user.id, userName: user.name, domainId: user.domainId, domainName: user.domainName, projectIds: this.members.get(user.id) ?? new Set() };
    checkProject(req, principal, projectId);
    return { parsed, secretKey: key.secretKey, principal };
  }

  /**
   * The projects a caller belongs to, whatever its token's scope (Keystone lists a user's
   * projects for a domain-scoped token too), optionally filtered by name; every project
   * when the check is off.
   */
  projectsOf(principal: Principal, name?: string): Project[] {
    const ids = principal.method === 'none' ? [...this.projects.keys()] : [...(this.members.get(principal.userId) ?? [])];
    return ids.map((id) => this.projects.get(id)).filter((p): p is Project => !!p && (name === undefined || p.name === name));
  }

  /** True when the caller is the domain admin (`iam.adminName` of `iam.domainName`). */
  isAdmin(principal: Principal): boolean {
    return principal.method === 'none' || (principal.userName === this.config.iam.adminName && principal.domainName === this.config.iam.domainName);
  }

  /** A project by id. */
  findProject(id: string): Project | undefined {
    return this.projects.get(id);
  }
}

/** A header's first value by lower-case name. */
function headerOf(req: Pick<SignableRequest, 'headers'>, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The caller must belong to `projectId`, and an `X-Project-Id` header must name it. @throws APIGW.0302 */
function checkProject(req: Pick<SignableRequest, 'headers'>, principal: Principal, projectId: string | undefined): void {
  if (projectId === undefined) return;
  const xProject = headerOf(req, 'x-project-id');
  if (xProject && xProject !== projectId) throw iamError('Forbidden', 'X-Project-Id does not match the project in the path');
  if (!principal.projectIds.has(projectId)) throw iamError('Forbidden', `the caller may not act in project ${projectId}`);
}

