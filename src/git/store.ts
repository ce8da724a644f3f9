import { AlreadyExistsError, isUniqueViolation } from '../core/errors.js';
import type { Executor } from '../core/db/kysely.js';
import type { GitAuthorizationsTable } from '../core/db/tables/git.js';
import type { Authorization, RepoType, TokenType } from './types.js';

/** Kysely queries of the git tables (STYLE.md §3 store). */

function toAuthorization(r: GitAuthorizationsTable): Authorization {
  return {
    project: r.project,
    name: r.name,
    repoType: r.repo_type as RepoType,
    tokenType: r.token_type as TokenType,
    repoHost: r.repo_host,
    repoHome: r.repo_home,
    repoUser: r.repo_user,
    avatar: r.avartar,
    status: Number(r.status),
    createdAtMs: Number(r.created_at_ms),
    updatedAtMs: Number(r.updated_at_ms),
    tokenSealed: r.token_sealed,
    refreshSealed: r.refresh_sealed,
  };
}

/** Inserts an authorization. @throws AlreadyExistsError when the name is used in the project */
export async function insertAuthorization(db: Executor, a: Authorization): Promise<void> {
  try {
    await db
      .insertInto('git_authorizations')
      .values({
        project: a.project,
        name: a.name,
        repo_type: a.repoType,
        token_type: a.tokenType,
        repo_host: a.repoHost,
        repo_home: a.repoHome,
        repo_user: a.repoUser,
        avartar: a.avatar,
        token_sealed: a.tokenSealed,
        refresh_sealed: a.refreshSealed,
        status: a.status,
        created_at_ms: a.createdAtMs,
        updated_at_ms: a.updatedAtMs,
      })
      .execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError(`authorization ${a.name}`);
    throw err;
  }
}

export async function findAuthorization(db: Executor, project: string, name: string): Promise<Authorization | undefined> {
  const r = await db.selectFrom('git_authorizations').selectAll().where('project', '=', project).where('name', '=', name).executeTakeFirst();
  return r ? toAuthorization(r) : undefined;
}

/** Every authorization of a project, optionally of one repo type (ordered by the caller). */
export async function listAuthorizations(db: Executor, project: string, repoType?: RepoType): Promise<Authorization[]> {
  let q = db.selectFrom('git_authorizations').selectAll().where('project', '=', project);
  if (repoType) q = q.where('repo_type', '=', repoType);
  return (await q.execute()).map(toAuthorization);
}

/** @returns whether a row was deleted */
export async function deleteAuthorization(db: Executor, project: string, name: string): Promise<boolean> {
  const r = await db.deleteFrom('git_authorizations').where('project', '=', project).where('name', '=', name).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function insertOauthState(db: Executor, digest: string, project: string, repoType: string, createdAtMs: number): Promise<void> {
  await db.insertInto('git_oauth_states').values({ digest, project, repo_type: repoType, created_at_ms: createdAtMs }).execute();
}

/**
 * Deletes a state and tells whether it existed for that project and repo type. Of two
 * concurrent takes only the one whose delete removed the row wins (single use).
 */
export async function takeOauthState(db: Executor, digest: string, project: string, repoType: string): Promise<{ createdAtMs: number } | undefined> {
  const r = await db.selectFrom('git_oauth_states').selectAll().where('digest', '=', digest).executeTakeFirst();
  if (!r) return undefined;
  const d = await db.deleteFrom('git_oauth_states').where('digest', '=', digest).executeTakeFirst();
  if (Number(d.numDeletedRows) === 0 || r.project !== project || r.repo_type !== repoType) return undefined;
  return { createdAtMs: Number(r.created_at_ms) };
}

/** Drops states older than `beforeMs`. */
export async function deleteOauthStatesBefore(db: Executor, beforeMs: number): Promise<void> {
  await db.deleteFrom('git_oauth_states').where('created_at_ms', '<', beforeMs).execute();
}

/** A hook of a hosted repository. */
export interface HookRow {
  id: string;
  project: string;
  namespace: string;
  repo: string;
  url: string;
  secretSealed: string;
  createdAtMs: number;
}

export async function insertHook(db: Executor, h: HookRow): Promise<void> {
  await db
    .insertInto('git_hooks')
    .values({ id: h.id, project: h.project, namespace: h.namespace, repo: h.repo, url: h.url, secret_sealed: h.secretSealed, created_at_ms: h.createdAtMs })
    .execute();
}

export async function listHooks(db: Executor, project: string, namespace: string, repo: string): Promise<HookRow[]> {
  const rows = await db.selectFrom('git_hooks').selectAll().where('project', '=', project).where('namespace', '=', namespace).where('repo', '=', repo).execute();
  return rows
    .map((r) => ({ id: r.id, project: r.project, namespace: r.namespace, repo: r.repo, url: r.url, secretSealed: r.secret_sealed, createdAtMs: Number(r.created_at_ms) }))
    .sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
}

/** @returns whether a row was deleted */
export async function deleteHook(db: Executor, project: string, namespace: string, repo: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('git_hooks').where('project', '=', project).where('namespace', '=', namespace).where('repo', '=', repo).where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Remembers the secret of a hook created on a remote host (replaces an older one with the same key). */
export async function putWebhookSecret(db: Executor, project: string, hookKey: string, secretSealed: string, createdAtMs: number): Promise<void> {
  await db.deleteFrom('git_webhook_secrets').where('project', '=', project).where('hook_key', '=', hookKey).execute();
  await db.insertInto('git_webhook_secrets').values({ project, hook_key: hookKey, secret_sealed: secretSealed, created_at_ms: createdAtMs }).execute();
}

export async function deleteWebhookSecret(db: Executor, project: string, hookKey: string): Promise<void> {
  await db.deleteFrom('git_webhook_secrets').where('project', '=', project).where('hook_key', '=', hookKey).execute();
}

/** Sealed secrets of every hook of a project: remote hooks and hosted-repository hooks. */
export async function listWebhookSecrets(db: Executor, project: string): Promise<string[]> {
  const remote = await db.selectFrom('git_webhook_secrets').select('secret_sealed').where('project', '=', project).execute();
  const local = await db.selectFrom('git_hooks').select('secret_sealed').where('project', '=', project).execute();
  return [...remote, ...local].map((r) => r.secret_sealed);
}

/** Claims the name of a hosted repository. @throws AlreadyExistsError when it is taken */
export async function claimRepository(db: Executor, key: { project: string; namespace: string; repo: string }, nowMs: number): Promise<void> {
  try {
    await db.insertInto('git_repositories').values({ ...key, created_at_ms: nowMs }).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError(`repository ${key.namespace}/${key.repo}`);
    throw err;
  }
}
