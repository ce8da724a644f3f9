import pg from 'pg';
import { randomToken } from '../../../core/secrets.js';
import type { IacProvider } from './types.js';

/** PostgreSQL identifiers the provider makes or accepts: lower-case, 1–63 characters. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Lower-case identifier text from a resource name and id: `os_<name>_<8 hex of the id>`. */
function defaultBase(resource: { id: string; name: string }): string {
  const name = resource.name.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 40);
  const suffix = resource.id.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 8);
  return `os_${name}_${suffix}`;
}

/** The comment OpenStage puts on a role it created for created resource `id`. */
function marker(id: string): string {
  return `openstage rds resource ${id}`;
}

/** A role's comment ('' when it has none), or undefined when the role does not exist. */
async function roleMark(c: pg.Client, role: string): Promise<string | undefined> {
  const r = await c.query<{ mark: string | null }>("SELECT shobj_description(oid, 'pg_authid') AS mark FROM pg_roles WHERE rolname = $1", [role]);
  return r.rowCount ? (r.rows[0]!.mark ?? '') : undefined;
}

/** The owner of a database, or undefined when it does not exist. */
async function databaseOwner(c: pg.Client, name: string): Promise<string | undefined> {
  const r = await c.query<{ owner: string }>('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [name]);
  return r.rowCount ? r.rows[0]!.owner : undefined;
}

/**
 * The `rds` provider: a PostgreSQL database and a login role owning it, on the server given by
 * `cas.rdsAdminUrl` (a role with CREATEDB and CREATEROLE). Variables (all optional):
 * `db_name`, `db_user` (lower-case identifiers; default `os_<name>_<id prefix>` and the same
 * with `_user`). The password is generated (24 random bytes, base64url) and kept in the
 * state; the state is `{host, port, db_type: "postgresql", db_name, db_user, password}`, the
 * same parameters an rds managed resource has. It never adopts a role or database it did not
 * create: the role carries the comment `openstage rds resource <id>`, the database is owned by it.
 */
export class RdsProvider implements IacProvider {
  readonly type = 'rds';

  /**
   * @param adminUrl postgres:// admin URL; empty means "not configured" (apply/destroy fail)
   * @param timeoutMs connect and statement timeout
   */
  constructor(
    private readonly adminUrl: string,
    private readonly timeoutMs: number,
  ) {}

  check(vars: Record<string, string>): string | undefined {
    for (const key of ['db_name', 'db_user']) {
      const v = vars[key];
      if (v !== undefined && !IDENTIFIER.test(v)) return `vars ${key} must be a lower-case PostgreSQL identifier (letters, digits, _; 1-63), not '${v}'`;
    }
    const type = vars.db_type;
    if (type !== undefined && type !== 'postgresql') return `vars db_type must be postgresql (the only engine the built-in rds provider creates), not '${type}'`;
    return undefined;
  }

  identity(resource: { id: string; name: string }, vars: Record<string, string>): string {
    const { dbName, dbUser } = this.names(resource, vars);
    return `${dbName}/${dbUser}`;
  }

  stateIdentity(state: Record<string, string>): string {
    return `${state.db_name}/${state.db_user}`;
  }

  private names(resource: { id: string; name: string }, vars: Record<string, string>): { dbName: string; dbUser: string } {
    const base = defaultBase(resource);
    return { dbName: vars.db_name ?? base, dbUser: vars.db_user ?? `${base}_user` };
  }

  async apply(resource: { id: string; name: string }, vars: Record<string, string>, previous: Record<string, string> | undefined): Promise<{ resourceId: string; state: Record<string, string> }> {
    const { dbName, dbUser } = this.names(resource, vars);
    const password = previous && previous.db_user === dbUser && previous.password ? previous.password : randomToken(24);
    const url = this.url();
    const mark = marker(resource.id);
    await this.withAdmin(async (c) => {
      // Only a role this resource created (marked with its comment, in the same transaction)
      // is ever altered, and only a database that role owns is kept: a tenant naming an
      // existing role or database (postgres, the platform's own database, another tenant's)
      // must never take it over, nor later drop it.
      const owner = await databaseOwner(c, dbName);
      if (owner !== undefined && owner !== dbUser) throw new Error(`database ${dbName} already exists on the rds server and was not created for this resource; choose another db_name`);
      await c.query('BEGIN');
      try {
        const role = await roleMark(c, dbUser);
        if (role !== undefined && role !== mark) throw new Error(`role ${dbUser} already exists on the rds server and was not created for this resource; choose another db_user`);
        await c.query(`${role === undefined ? 'CREATE' : 'ALTER'} ROLE ${c.escapeIdentifier(dbUser)} WITH LOGIN PASSWORD ${c.escapeLiteral(password)}`);
        if (role === undefined) await c.query(`COMMENT ON ROLE ${c.escapeIdentifier(dbUser)} IS ${c.escapeLiteral(mark)}`);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      if (owner === undefined) await c.query(`CREATE DATABASE ${c.escapeIdentifier(dbName)} OWNER ${c.escapeIdentifier(dbUser)}`);
    });
    return {
      resourceId: dbName,
      state: { host: url.hostname, port: url.port || '5432', db_type: 'postgresql', db_name: dbName, db_user: dbUser, password },
    };
  }

  /** Drops the database and role only when this resource created them (see apply); anything else is left alone. */
  async destroy(resource: { id: string }, state: Record<string, string>): Promise<void> {
    await this.withAdmin(async (c) => {
      if (!state.db_user || (await roleMark(c, state.db_user)) !== marker(resource.id)) return;
      if (state.db_name && (await databaseOwner(c, state.db_name)) === state.db_user) await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(state.db_name)} WITH (FORCE)`);
      await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(state.db_user)}`);
    });
  }

  private url(): URL {
    if (!this.adminUrl) throw new Error('no PostgreSQL server is configured for rds resources: set cas.rdsAdminUrl (OPENSTAGE_CAS_RDS_ADMIN_URL) to a postgres:// admin URL');
    try {
      return new URL(this.adminUrl);
    } catch {
      throw new Error('cas.rdsAdminUrl is not a valid postgres:// URL');
    }
  }

  private async withAdmin(fn: (c: pg.Client) => Promise<void>): Promise<void> {
    this.url();
    const client = new pg.Client({ connectionString: this.adminUrl, connectionTimeoutMillis: this.timeoutMs, query_timeout: this.timeoutMs });
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (err) {
      throw new Error(`cannot reach the rds PostgreSQL server: ${(err as Error).message}`);
    }
    try {
      await fn(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
