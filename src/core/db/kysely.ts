import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Migration, type Transaction } from 'kysely';
import pg from 'pg';
import type { Logger } from '../log.js';
import * as m0001 from './migrations/0001_create_registry.js';
import * as m0002 from './migrations/0002_create_kie.js';
import * as m0003 from './migrations/0003_create_iam.js';
import * as m0004 from './migrations/0004_create_rbac.js';
import * as m0005 from './migrations/0005_create_cas_environments.js';
import * as m0006 from './migrations/0006_create_cas_applications.js';
import * as m0007 from './migrations/0007_create_cas_runtime_stacks.js';
import * as m0008 from './migrations/0008_create_cas_configs.js';
import * as m0009 from './migrations/0009_create_cas_addons.js';
import * as m0010 from './migrations/0010_create_git.js';
import * as m0011 from './migrations/0011_create_deploy_jobs.js';
import * as m0012 from './migrations/0012_create_deploy_releases.js';
import * as m0013 from './migrations/0013_create_cas_components.js';
import * as m0014 from './migrations/0014_create_engines.js';
import * as m0015 from './migrations/0015_add_component_record_body.js';
import * as m0016 from './migrations/0016_create_deploy_sandbox_users.js';
import * as m0017 from './migrations/0017_create_cas_v2.js';
import * as m0018 from './migrations/0018_add_engine_tags.js';
import * as m0019 from './migrations/0019_create_core_cluster.js';
import * as m0020 from './migrations/0020_add_deploy_replica_owner.js';
import type { Database } from './schema.js';

/** Either the database handle or an open transaction; every store function takes one. */
export type Executor = Kysely<Database> | Transaction<Database>;

/** Migrations in order; names are `NNNN_<verb>_<thing>` (STYLE.md §2). */
const MIGRATIONS: Record<string, Migration> = {
  '0001_create_registry': m0001,
  '0002_create_kie': m0002,
  '0003_create_iam': m0003,
  '0004_create_rbac': m0004,
  '0005_create_cas_environments': m0005,
  '0006_create_cas_applications': m0006,
  '0007_create_cas_runtime_stacks': m0007,
  '0008_create_cas_configs': m0008,
  '0009_create_cas_addons': m0009,
  '0010_create_git': m0010,
  '0011_create_deploy_jobs': m0011,
  '0012_create_deploy_releases': m0012,
  '0013_create_cas_components': m0013,
  '0014_create_engines': m0014,
  '0015_add_component_record_body': m0015,
  '0016_create_deploy_sandbox_users': m0016,
  '0017_create_cas_v2': m0017,
  '0018_add_engine_tags': m0018,
  '0019_create_core_cluster': m0019,
  '0020_add_deploy_replica_owner': m0020,
};

/** Advisory lock key under which servers sharing a PostgreSQL database migrate it one at a time. */
const MIGRATION_LOCK = 7_316_001;

/**
 * Wraps better-sqlite3 so that each distinct SQL text is prepared once (Kysely's SQLite
 * driver prepares on every query). Bounded: the cache is dropped when it grows past 1,000
 * texts (queries with variable-length IN lists would otherwise grow it without end).
 * Safe because statements are never iterated concurrently (no streamQuery use).
 */
function cachingStatements(sqlite: SQLite.Database, onClose: () => void): SqliteDatabaseLike {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => {
      sqlite.close();
      onClose();
    },
    prepare: (sql: string) => {
      let stmt = statements.get(sql);
      if (!stmt) {
        if (statements.size >= 1000) statements.clear();
        stmt = sqlite.prepare(sql);
        statements.set(sql, stmt);
      }
      return stmt;
    },
  } as unknown as SqliteDatabaseLike;
}

/**
 * One server per SQLite file: two processes would each keep their own in-memory index and
 * disagree. Takes `<file>.lock` holding our pid; a lock whose process is gone is taken over.
 * @returns the release function
 * @throws Error when a live process holds the lock
 */
function lockDatabaseFile(file: string): () => void {
  return lockFile(`${file}.lock`, `the database ${file}`);
}

/**
 * Takes the lock file `lock` holding our pid; a lock whose process is gone is taken over.
 * @param what what the lock guards, for the error
 * @returns the release function
 * @throws Error when a live process holds the lock
 */
export function lockFile(lock: string, what: string): () => void {
  try {
    writeFileSync(lock, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const pid = Number(readFileSync(lock, 'utf8').trim());
    if (pid && pid !== process.pid && isAlive(pid)) throw new Error(`${what} is in use by process ${pid}; stop it or use another --data-dir`);
    writeFileSync(lock, String(process.pid));
  }
  return () => rmSync(lock, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type SqliteDatabaseLike = ConstructorParameters<typeof SqliteDialect>[0]['database'] & object;

/** An open database with its dialect name. */
export interface Db {
  kysely: Kysely<Database>;
  dialect: 'sqlite' | 'postgres';
  /** The postgres:// URL (dedicated connections: LISTEN, leadership); '' on SQLite. */
  url: string;
  /** Closes every connection; awaits in-flight queries. */
  close(): Promise<void>;
}

/**
 * Opens the database named by `db` (`sqlite` → `<dataDir>/openstage.db` in WAL mode, or a
 * `postgres://` URL) and applies pending migrations.
 * @throws Error when the URL is not understood, the database is unreachable or a migration fails
 */
export async function openDatabase(db: string, dataDir: string, log: Logger): Promise<Db> {
  let kysely: Kysely<Database>;
  let dialect: Db['dialect'];
  let url = '';
  if (db === 'sqlite' || db.startsWith('sqlite:')) {
    const file = db.startsWith('sqlite:') ? db.slice('sqlite:'.length) : join(dataDir, 'openstage.db');
    if (file !== ':memory:') mkdirSync(file === join(dataDir, 'openstage.db') ? dataDir : join(file, '..'), { recursive: true });
    const releaseLock = file === ':memory:' ? () => undefined : lockDatabaseFile(file);
    // A new database file is this user's alone; SQLite gives its -wal and -shm files the same mode.
    if (file !== ':memory:' && !existsSync(file)) closeSync(openSync(file, 'a', 0o600));
    const sqlite = new SQLite(file);
    sqlite.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives a process crash (SIGKILL); only an OS crash can lose the last commits.
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('cache_size = -65536');
    kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite, releaseLock) }) });
    dialect = 'sqlite';
  } else if (/^postgres(ql)?:\/\//.test(db)) {
    const pool = new pg.Pool({ connectionString: db, max: 10 });
    pool.on('error', (err) => log.error({ err }, 'postgres pool error'));
    kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    dialect = 'postgres';
    url = db;
  } else {
    throw new Error(`unsupported database "${db}": use "sqlite" or a postgres:// URL`);
  }
  // Areas are built in parallel, so a later-numbered migration may land before an earlier one.
  const migrator = new Migrator({ db: kysely, provider: { getMigrations: async () => MIGRATIONS }, allowUnorderedMigrations: true });
  // Servers started together on an empty database migrate one after the other: Kysely's own
  // lock table is itself created by the migration run, and two CREATE TABLE IF NOT EXISTS
  // can collide in PostgreSQL's catalog.
  const { error, results } = dialect === 'postgres' ? await withSessionLock(url, MIGRATION_LOCK, () => migrator.migrateToLatest()) : await migrator.migrateToLatest();
  // One line for the lot (a first start applies every migration); a failure names its migration.
  const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  if (applied.length > 0) log.info({ count: applied.length, first: applied[0], last: applied[applied.length - 1] }, `database migrated (${applied.length} migration${applied.length === 1 ? '' : 's'} applied)`);
  const failed = (results ?? []).find((r) => r.status === 'Error');
  if (failed) log.error({ migration: failed.migrationName }, 'migration failed');
  if (error) {
    await kysely.destroy();
    throw error instanceof Error ? error : new Error(String(error));
  }
  return { kysely, dialect, url, close: () => kysely.destroy() };
}

/**
 * Runs `fn` while holding the PostgreSQL session advisory lock `key` on a connection of its
 * own (released with the connection, also when this process dies).
 * @throws what connecting or `fn` throws
 */
export async function withSessionLock<T>(url: string, key: number, fn: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [key]);
    return await fn();
  } finally {
    await client.end().catch(() => undefined);
  }
}
