import type { Executor } from '../../core/db/kysely.js';
import { AlreadyExistsError, isUniqueViolation } from '../../core/errors.js';
import type { SecretBox } from '../../core/secrets.js';
import type { CasConfigGroupsTable, CasConfigHistoriesTable, CasConfigsTable } from '../../core/db/tables/cas-config.js';
import type { ConfigFile, ConfigGroup, ConfigRecord, ConfigType } from './types.js';

/**
 * Kysely queries for the configuration management tables (cas_config_groups, cas_configs,
 * cas_config_histories). No rules, no events. Content of sensitive files is sealed with the
 * SecretBox on the way in and opened on the way out. PostgreSQL returns bigint columns as
 * strings, hence the Number() on the way out.
 */

/** Runs an insert or update; a unique-key violation becomes AlreadyExistsError. */
async function unique<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError('name already used');
    throw err;
  }
}

const seal = (box: SecretBox, sensitive: boolean, content: string): { content: string; content_sealed: number } =>
  sensitive ? { content: box.encrypt(content), content_sealed: 1 } : { content, content_sealed: 0 };
const open = (box: SecretBox, row: { content: string; content_sealed: number }): string => (Number(row.content_sealed) ? box.decrypt(row.content) : row.content);

function toGroup(r: CasConfigGroupsTable): ConfigGroup {
  return {
    id: r.id,
    project: r.project,
    name: r.name,
    description: r.description,
    creator: r.creator,
    enterpriseProjectId: r.enterprise_project_id,
    labels: JSON.parse(r.labels) as ConfigGroup['labels'],
    createTimeMs: Number(r.create_time),
    updateTimeMs: Number(r.update_time),
  };
}

function toFile(box: SecretBox, r: CasConfigsTable): ConfigFile {
  return {
    id: r.id,
    project: r.project,
    groupId: r.group_id,
    name: r.name,
    description: r.description,
    type: r.type as ConfigType,
    content: open(box, r),
    sensitive: Number(r.sensitive) === 1,
    version: Number(r.version),
    creator: r.creator,
    modifier: r.modifier,
    enterpriseProjectId: r.enterprise_project_id,
    createTimeMs: Number(r.create_time),
    updateTimeMs: Number(r.update_time),
  };
}

function toRecord(box: SecretBox, r: CasConfigHistoriesTable): ConfigRecord {
  return {
    id: r.id,
    project: r.project,
    configId: r.config_id,
    groupId: r.group_id,
    configName: r.config_name,
    description: r.description,
    type: r.type as ConfigType,
    content: open(box, r),
    sensitive: Number(r.content_sealed) === 1,
    version: Number(r.version),
    creator: r.creator,
    createTimeMs: Number(r.create_time),
  };
}

// ---- groups ----

/** Inserts a group. @throws AlreadyExistsError when the name is taken in the project */
export async function insertGroup(db: Executor, g: ConfigGroup): Promise<void> {
  await unique(() =>
    db
      .insertInto('cas_config_groups')
      .values({
        id: g.id,
        project: g.project,
        name: g.name,
        description: g.description,
        creator: g.creator,
        enterprise_project_id: g.enterpriseProjectId,
        labels: JSON.stringify(g.labels),
        create_time: g.createTimeMs,
        update_time: g.updateTimeMs,
      })
      .execute(),
  );
}

/** A group of the project by id, or undefined. */
export async function findGroup(db: Executor, project: string, id: string): Promise<ConfigGroup | undefined> {
  const r = await db.selectFrom('cas_config_groups').selectAll().where('project', '=', project).where('id', '=', id).executeTakeFirst();
  return r && toGroup(r);
}

/** A group of the project by name, or undefined. */
export async function findGroupByName(db: Executor, project: string, name: string): Promise<ConfigGroup | undefined> {
  const r = await db.selectFrom('cas_config_groups').selectAll().where('project', '=', project).where('name', '=', name).executeTakeFirst();
  return r && toGroup(r);
}

/** The project's groups, optionally only the one named `name` (unordered). */
export async function listGroups(db: Executor, project: string, name?: string): Promise<ConfigGroup[]> {
  let q = db.selectFrom('cas_config_groups').selectAll().where('project', '=', project);
  if (name !== undefined) q = q.where('name', '=', name);
  return (await q.execute()).map(toGroup);
}

/** Deletes a group row (its files must be gone). */
/** Deletes a group. @returns whether it existed */
export async function deleteGroup(db: Executor, project: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('cas_config_groups').where('project', '=', project).where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

// ---- files ----

/** Inserts a config file. @throws AlreadyExistsError when the name is taken in the group */
export async function insertFile(db: Executor, box: SecretBox, f: ConfigFile): Promise<void> {
  await unique(() =>
    db
      .insertInto('cas_configs')
      .values({
        id: f.id,
        project: f.project,
        group_id: f.groupId,
        name: f.name,
        description: f.description,
        type: f.type,
        ...seal(box, f.sensitive, f.content),
        sensitive: f.sensitive ? 1 : 0,
        version: f.version,
        creator: f.creator,
        modifier: f.modifier,
        enterprise_project_id: f.enterpriseProjectId,
        create_time: f.createTimeMs,
        update_time: f.updateTimeMs,
      })
      .execute(),
  );
}

/**
 * Rewrites a config file's mutable fields if its stored version is still `previousVersion`.
 * @returns false when another writer changed it first
 * @throws AlreadyExistsError when the new name is taken in the group
 */
export async function updateFile(db: Executor, box: SecretBox, f: ConfigFile, previousVersion: number): Promise<boolean> {
  const r = await unique(() =>
    db
      .updateTable('cas_configs')
      .set({
        group_id: f.groupId,
        name: f.name,
        description: f.description,
        type: f.type,
        ...seal(box, f.sensitive, f.content),
        sensitive: f.sensitive ? 1 : 0,
        version: f.version,
        modifier: f.modifier,
        update_time: f.updateTimeMs,
      })
      .where('project', '=', f.project)
      .where('id', '=', f.id)
      .where('version', '=', previousVersion)
      .executeTakeFirst(),
  );
  return Number(r.numUpdatedRows) === 1;
}

/** A config file of the project by id, or undefined. */
export async function findFile(db: Executor, box: SecretBox, project: string, id: string): Promise<ConfigFile | undefined> {
  const r = await db.selectFrom('cas_configs').selectAll().where('project', '=', project).where('id', '=', id).executeTakeFirst();
  return r && toFile(box, r);
}

/** A config file by group and name, or undefined. */
export async function findFileByName(db: Executor, box: SecretBox, project: string, groupId: string, name: string): Promise<ConfigFile | undefined> {
  const r = await db.selectFrom('cas_configs').selectAll().where('project', '=', project).where('group_id', '=', groupId).where('name', '=', name).executeTakeFirst();
  return r && toFile(box, r);
}

/** The project's config files, filtered by exact name and/or group (unordered). */
export async function listFiles(db: Executor, box: SecretBox, project: string, filter: { name?: string; groupId?: string }): Promise<ConfigFile[]> {
  let q = db.selectFrom('cas_configs').selectAll().where('project', '=', project);
  if (filter.name !== undefined) q = q.where('name', '=', filter.name);
  if (filter.groupId !== undefined) q = q.where('group_id', '=', filter.groupId);
  return (await q.execute()).map((r) => toFile(box, r));
}

/** How many files a group holds. */
export async function countFilesInGroup(db: Executor, project: string, groupId: string): Promise<number> {
  const r = await db.selectFrom('cas_configs').select((eb) => eb.fn.countAll().as('n')).where('project', '=', project).where('group_id', '=', groupId).executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** Deletes a config file and all its records. @returns whether the file existed */
export async function deleteFile(db: Executor, project: string, id: string): Promise<boolean> {
  await db.deleteFrom('cas_config_histories').where('project', '=', project).where('config_id', '=', id).execute();
  const r = await db.deleteFrom('cas_configs').where('project', '=', project).where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

// ---- records ----

/** Inserts a record (a superseded version). */
export async function insertRecord(db: Executor, box: SecretBox, r: ConfigRecord): Promise<void> {
  await db
    .insertInto('cas_config_histories')
    .values({
      id: r.id,
      project: r.project,
      config_id: r.configId,
      group_id: r.groupId,
      config_name: r.configName,
      description: r.description,
      type: r.type,
      ...seal(box, r.sensitive, r.content),
      version: r.version,
      creator: r.creator,
      create_time: r.createTimeMs,
    })
    .execute();
}

/** Every record of a config file (unordered). */
export async function listRecords(db: Executor, box: SecretBox, project: string, configId: string): Promise<ConfigRecord[]> {
  const rows = await db.selectFrom('cas_config_histories').selectAll().where('project', '=', project).where('config_id', '=', configId).execute();
  return rows.map((r) => toRecord(box, r));
}

/** A record of a config file, or undefined. */
export async function findRecord(db: Executor, box: SecretBox, project: string, configId: string, id: string): Promise<ConfigRecord | undefined> {
  const r = await db
    .selectFrom('cas_config_histories')
    .selectAll()
    .where('project', '=', project)
    .where('config_id', '=', configId)
    .where('id', '=', id)
    .executeTakeFirst();
  return r && toRecord(box, r);
}

/** Deletes one record. @returns whether it existed */
export async function deleteRecord(db: Executor, project: string, configId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('cas_config_histories').where('project', '=', project).where('config_id', '=', configId).where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
