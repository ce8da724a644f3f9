import type { Executor } from '../core/db/kysely.js';
import { AlreadyExistsError, isUniqueViolation } from '../core/errors.js';
import type { AccessKey, Project, TokenRecord, User } from './types.js';

/** Kysely queries for the iam_* tables. Times are milliseconds. */

const toUser = (r: { id: string; name: string; domain_id: string; domain_name: string; created_at_ms: number | string }): User => ({
  id: r.id,
  name: r.name,
  domainId: r.domain_id,
  domainName: r.domain_name,
  createdAtMs: Number(r.created_at_ms),
});

async function unique<T>(run: () => Promise<T>, what: string): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError(what);
    throw err;
  }
}

/** Inserts a user. @throws AlreadyExistsError on a name clash in the domain */
export async function createUser(db: Executor, user: User, passwordHash: string): Promise<void> {
  await unique(
    () => db.insertInto('iam_users').values({ id: user.id, name: user.name, domain_id: user.domainId, domain_name: user.domainName, password_hash: passwordHash, created_at_ms: user.createdAtMs }).execute(),
    `user ${user.name}`,
  );
}

/** A user and its password hash by (domain name, user name). */
export async function findUserByName(db: Executor, domainName: string, name: string): Promise<{ user: User; passwordHash: string } | undefined> {
  const r = await db.selectFrom('iam_users').selectAll().where('domain_name', '=', domainName).where('name', '=', name).executeTakeFirst();
  return r && { user: toUser(r), passwordHash: r.password_hash };
}

/** A user by id. */
export async function findUser(db: Executor, id: string): Promise<User | undefined> {
  const r = await db.selectFrom('iam_users').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toUser(r);
}

/** Users whose name is unique across domains when no domain is given (login by name only). */
export async function findUsersByName(db: Executor, name: string): Promise<{ user: User; passwordHash: string }[]> {
  const rows = await db.selectFrom('iam_users').selectAll().where('name', '=', name).execute();
  return rows.map((r) => ({ user: toUser(r), passwordHash: r.password_hash }));
}

/** Every user. */
export async function listUsers(db: Executor): Promise<User[]> {
  return (await db.selectFrom('iam_users').selectAll().orderBy('created_at_ms').execute()).map(toUser);
}

/** Replaces a user's password hash. */
export async function setPassword(db: Executor, userId: string, passwordHash: string): Promise<void> {
  await db.updateTable('iam_users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
}

const toProject = (r: { id: string; name: string; domain_id: string; created_at_ms: number | string }): Project => ({ id: r.id, name: r.name, domainId: r.domain_id, createdAtMs: Number(r.created_at_ms) });

/** Inserts a project. @throws AlreadyExistsError on an id or name clash */
export async function createProject(db: Executor, project: Project): Promise<void> {
  await unique(
    () => db.insertInto('iam_projects').values({ id: project.id, name: project.name, domain_id: project.domainId, created_at_ms: project.createdAtMs }).execute(),
    `project ${project.name}`,
  );
}

/** A project by id. */
export async function findProject(db: Executor, id: string): Promise<Project | undefined> {
  const r = await db.selectFrom('iam_projects').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toProject(r);
}

/** A project by (domain, name). */
export async function findProjectByName(db: Executor, domainId: string, name: string): Promise<Project | undefined> {
  const r = await db.selectFrom('iam_projects').selectAll().where('domain_id', '=', domainId).where('name', '=', name).executeTakeFirst();
  return r && toProject(r);
}

/** Every project. */
export async function listProjects(db: Executor): Promise<Project[]> {
  return (await db.selectFrom('iam_projects').selectAll().orderBy('created_at_ms').execute()).map(toProject);
}

/** Adds a user to a project (no-op when already a member). */
export async function addMember(db: Executor, userId: string, projectId: string): Promise<void> {
  await db
    .insertInto('iam_memberships')
    .values({ user_id: userId, project_id: projectId })
    .onConflict((oc) => oc.columns(['user_id', 'project_id']).doNothing())
    .execute();
}

/** Every membership. */
export async function listMemberships(db: Executor): Promise<{ userId: string; projectId: string }[]> {
  return (await db.selectFrom('iam_memberships').selectAll().execute()).map((r) => ({ userId: r.user_id, projectId: r.project_id }));
}

/** Inserts or replaces an access key with its sealed secret. */
export async function putAccessKey(db: Executor, key: AccessKey, secretSealed: string): Promise<void> {
  await db.deleteFrom('iam_access_keys').where('access_key', '=', key.accessKey).execute();
  await db.insertInto('iam_access_keys').values({ access_key: key.accessKey, user_id: key.userId, secret_sealed: secretSealed, status: key.status, created_at_ms: key.createdAtMs }).execute();
}

/** Every access key with its sealed secret. */
export async function listAccessKeys(db: Executor): Promise<{ key: AccessKey; secretSealed: string }[]> {
  const rows = await db.selectFrom('iam_access_keys').selectAll().orderBy('created_at_ms').execute();
  return rows.map((r) => ({ key: { accessKey: r.access_key, userId: r.user_id, status: r.status === 'inactive' ? 'inactive' : 'active', createdAtMs: Number(r.created_at_ms) }, secretSealed: r.secret_sealed }));
}

/** Deletes an access key. */
export async function deleteAccessKey(db: Executor, accessKey: string): Promise<number> {
  const r = await db.deleteFrom('iam_access_keys').where('access_key', '=', accessKey).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Stores a token record. */
export async function createToken(db: Executor, t: TokenRecord): Promise<void> {
  await db.insertInto('iam_tokens').values({ digest: t.digest, user_id: t.userId, project_id: t.projectId, issued_at_ms: t.issuedAtMs, expires_at_ms: t.expiresAtMs }).execute();
}

/** A token record by digest. */
export async function findToken(db: Executor, digest: string): Promise<TokenRecord | undefined> {
  const r = await db.selectFrom('iam_tokens').selectAll().where('digest', '=', digest).executeTakeFirst();
  return r && { digest: r.digest, userId: r.user_id, projectId: r.project_id, issuedAtMs: Number(r.issued_at_ms), expiresAtMs: Number(r.expires_at_ms) };
}

/** Deletes a token (revocation). */
export async function deleteToken(db: Executor, digest: string): Promise<void> {
  await db.deleteFrom('iam_tokens').where('digest', '=', digest).execute();
}

/** Deletes tokens that expired before `nowMs`. */
export async function deleteExpiredTokens(db: Executor, nowMs: number): Promise<void> {
  await db.deleteFrom('iam_tokens').where('expires_at_ms', '<', nowMs).execute();
}
