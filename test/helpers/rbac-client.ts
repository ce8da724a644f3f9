import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { call, RegistryClient, uniq, type Reply } from './registry-client.js';
import { startServer, type TestServer } from './server.js';

/** Typed HTTP calls against the engine RBAC routes of a test server. */

/** The root password every RBAC test server starts with. */
export const ROOT_PASSWORD = 'Root#Pass1';
/** A password that meets the rule, for test accounts. */
export const PASSWORD = 'Dev#Pass12';

/** Starts a test server with RBAC on and the root password set; `overrides` as for startServer. */
export function startRbacServer(t: TestContext, overrides: Record<string, unknown> = {}): Promise<TestServer> {
  return startServer(t, { 'rbac.enabled': true, 'rbac.rootPassword': ROOT_PASSWORD, ...overrides });
}

/** POST /v4/token. */
export function login(base: string, name: string, password: string, tokenExpirationTime?: string): Promise<Reply<any>> {
  return call(base, 'POST', '/v4/token', { body: { name, password, ...(tokenExpirationTime === undefined ? {} : { tokenExpirationTime }) } });
}

/** Calls as one account: every request carries `Authorization: Bearer <token>`. */
export class RbacClient {
  constructor(
    readonly base: string,
    readonly token: string,
  ) {}

  /** Logs in and returns a client for that account; fails the test when the login fails. */
  static async login(base: string, name: string, password: string): Promise<RbacClient> {
    const r = await login(base, name, password);
    assert.equal(r.status, 200, `login ${name}: ${r.text}`);
    return new RbacClient(base, r.body.token);
  }

  /** The root account's client. */
  static root(srv: TestServer): Promise<RbacClient> {
    return RbacClient.login(srv.url, 'root', ROOT_PASSWORD);
  }

  get auth(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  req<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    return call<T>(this.base, method, path, { body, headers: { ...this.auth, ...headers } });
  }

  /** A registry client that sends this account's token. */
  registry(): RegistryClient {
    return new RegistryClient(this.base, this.auth);
  }

  /** Creates an account; fails the test unless the answer is 200. */
  async createAccount(name: string, roles: string[], password = PASSWORD): Promise<void> {
    const r = await this.req('POST', '/v4/accounts', { name, roles, password });
    assert.equal(r.status, 200, `create account ${name}: ${r.text}`);
  }

  /** Creates a role; fails the test unless the answer is 200. */
  async createRole(name: string, perms: unknown[]): Promise<void> {
    const r = await this.req('POST', '/v4/roles', { name, perms });
    assert.equal(r.status, 200, `create role ${name}: ${r.text}`);
  }

  /** Creates an account with `roles` (and the role itself when `perms` is given) and logs in as it. */
  async newUser(roles: string[], perms?: unknown[]): Promise<{ name: string; client: RbacClient }> {
    if (perms) await this.createRole(roles[0]!, perms);
    const name = uniq('acct');
    await this.createAccount(name, roles);
    return { name, client: await RbacClient.login(this.base, name, PASSWORD) };
  }
}

/** Starts an RBAC test server (see startRbacServer) and logs in as root. */
export async function startAsRoot(t: TestContext, overrides: Record<string, unknown> = {}): Promise<{ srv: TestServer; root: RbacClient }> {
  const srv = await startRbacServer(t, overrides);
  return { srv, root: await RbacClient.root(srv) };
}
