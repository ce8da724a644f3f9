import type { Executor } from '../../core/db/kysely.js';
import { AlreadyExistsError, isUniqueViolation } from '../../core/errors.js';
import type { CasComponentRecordsTable, CasComponentsTable } from '../../core/db/tables/cas-component.js';
import type { SecretBox } from '../../core/secrets.js';
import { hasSourceCredentials, redactUrl, sealBody, SEALED_KEY, unsealBody } from './source-secret.js';
import type { Component, ComponentBody, ComponentRecord, RecordStatus } from './types.js';

/**
 * Kysely queries for cas_components and cas_component_records. No rules, no events. Bodies
 * are stored with the credentials of their source URLs sealed (source-secret.ts, issue #15
 * M5): `box` seals on write and unseals on read, so a Component holds the real URLs.
 */

function toComponent(box: SecretBox, r: CasComponentsTable): Component {
  return {
    id: r.id,
    projectId: r.project_id,
    applicationId: r.application_id,
    environmentId: r.environment_id,
    name: r.name,
    body: unsealBody(r.body, box),
    creator: r.creator,
    deleteJobId: r.delete_job_id,
    createdAtMs: Number(r.created_at_ms),
    updatedAtMs: Number(r.updated_at_ms),
  };
}

function toRow(box: SecretBox, c: Component): CasComponentsTable {
  return {
    id: c.id,
    project_id: c.projectId,
    application_id: c.applicationId,
    environment_id: c.environmentId,
    name: c.name,
    body: sealBody(c.body, box),
    stack_name: c.body.runtime_stack.name,
    stack_type: c.body.runtime_stack.type,
    stack_version: c.body.runtime_stack.version,
    creator: c.creator,
    delete_job_id: c.deleteJobId,
    created_at_ms: c.createdAtMs,
    updated_at_ms: c.updatedAtMs,
  };
}

/** Inserts a component. @throws AlreadyExistsError when the application has one of that name in the environment */
export async function createComponent(db: Executor, box: SecretBox, c: Component): Promise<void> {
  try {
    await db.insertInto('cas_components').values(toRow(box, c)).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError(`component ${c.name}`);
    throw err;
  }
}

/** Replaces body, delete job and update time of a component. @returns true when it existed */
export async function updateComponent(db: Executor, box: SecretBox, c: Component): Promise<boolean> {
  const row = toRow(box, c);
  const r = await db
    .updateTable('cas_components')
    .set({ body: row.body, stack_name: row.stack_name, stack_type: row.stack_type, stack_version: row.stack_version, delete_job_id: row.delete_job_id, updated_at_ms: row.updated_at_ms })
    .where('project_id', '=', c.projectId)
    .where('id', '=', c.id)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** One component of the project, or undefined. */
export async function findComponent(db: Executor, box: SecretBox, project: string, id: string): Promise<Component | undefined> {
  const row = await db.selectFrom('cas_components').selectAll().where('project_id', '=', project).where('id', '=', id).executeTakeFirst();
  return row ? toComponent(box, row) : undefined;
}

/** The project's components, optionally only an application's (unordered). */
export async function listComponents(db: Executor, box: SecretBox, project: string | undefined, applicationId?: string): Promise<Component[]> {
  let q = db.selectFrom('cas_components').selectAll();
  if (project !== undefined) q = q.where('project_id', '=', project);
  if (applicationId !== undefined) q = q.where('application_id', '=', applicationId);
  return (await q.execute()).map((r) => toComponent(box, r));
}

/** Components being deleted, in every project (resumed at start). */
export async function listDeleting(db: Executor, box: SecretBox): Promise<Component[]> {
  return (await db.selectFrom('cas_components').selectAll().where('delete_job_id', '!=', '').execute()).map((r) => toComponent(box, r));
}

/**
 * Seals the source credentials of bodies stored before they were sealed (components and
 * deploy records, in every project), once at start. @returns how many rows were rewritten
 */
export async function sealStoredCredentials(db: Executor, box: SecretBox): Promise<number> {
  let rewritten = 0;
  const plain = (json: string): ComponentBody | undefined => {
    if (json === '' || json.includes(SEALED_KEY)) return undefined;
    const body = JSON.parse(json) as ComponentBody;
    return hasSourceCredentials(body) ? body : undefined;
  };
  for (const r of await db.selectFrom('cas_components').select(['project_id', 'id', 'body']).execute()) {
    const body = plain(r.body);
    if (!body) continue;
    await db.updateTable('cas_components').set({ body: sealBody(body, box) }).where('project_id', '=', r.project_id).where('id', '=', r.id).execute();
    rewritten++;
  }
  for (const r of await db.selectFrom('cas_component_records').select(['job_id', 'body', 'job_info']).execute()) {
    const body = plain(r.body);
    const info = JSON.parse(r.job_info) as ComponentRecord['jobInfo'];
    const redactedUrl = redactUrl(info.sourceUrl);
    if (!body && redactedUrl === info.sourceUrl) continue;
    await db
      .updateTable('cas_component_records')
      .set({ ...(body ? { body: sealBody(body, box) } : {}), job_info: JSON.stringify({ ...info, sourceUrl: redactedUrl }) })
      .where('job_id', '=', r.job_id)
      .execute();
    rewritten++;
  }
  return rewritten;
}

/** Number of components matching one column. */
export async function countComponents(db: Executor, project: string, where: { environmentId?: string; applicationId?: string; stack?: { name: string; type: string; version: string } }): Promise<number> {
  let q = db.selectFrom('cas_components').select((eb) => eb.fn.countAll().as('n')).where('project_id', '=', project);
  if (where.environmentId !== undefined) q = q.where('environment_id', '=', where.environmentId);
  if (where.applicationId !== undefined) q = q.where('application_id', '=', where.applicationId);
  if (where.stack) q = q.where('stack_name', '=', where.stack.name).where('stack_type', '=', where.stack.type).where('stack_version', '=', where.stack.version);
  const row = await q.executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Deletes a component and its records. @returns true when it existed */
export async function deleteComponent(db: Executor, project: string, id: string): Promise<boolean> {
  await db.deleteFrom('cas_component_records').where('project_id', '=', project).where('component_id', '=', id).execute();
  const r = await db.deleteFrom('cas_components').where('project_id', '=', project).where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

// ───────────── records ─────────────

function toRecord(r: CasComponentRecordsTable): ComponentRecord {
  return {
    jobId: r.job_id,
    projectId: r.project_id,
    componentId: r.component_id,
    deployType: r.deploy_type,
    version: r.version,
    description: JSON.parse(r.description) as Record<string, unknown>,
    jobInfo: JSON.parse(r.job_info) as ComponentRecord['jobInfo'],
    status: r.status as RecordStatus,
    beginMs: Number(r.begin_ms),
    endMs: Number(r.end_ms),
  };
}

/** Inserts a record; its body (deploy/upgrade) is stored with the source credentials sealed. */
export async function insertRecord(db: Executor, box: SecretBox, r: ComponentRecord): Promise<void> {
  await db
    .insertInto('cas_component_records')
    .values({
      job_id: r.jobId,
      project_id: r.projectId,
      component_id: r.componentId,
      deploy_type: r.deployType,
      version: r.version,
      description: JSON.stringify(r.description),
      job_info: JSON.stringify(r.jobInfo),
      status: r.status,
      begin_ms: r.beginMs,
      end_ms: r.endMs,
      body: r.body ? sealBody(r.body, box) : '',
    })
    .execute();
}

/**
* The body of the newest deploy/upgrade record of `version` (what a rollback to that version
 * restores) other than those of `exceptJobIds`, with its real source URLs, or undefined when
 * none kept one.
 */
export async function findVersionBody(db: Executor, box: SecretBox, project: string, componentId: string, version: string, exceptJobIds: string[] = []): Promise<ComponentBody | undefined> {
  let q = db
    .selectFrom('cas_component_records')
    .select(['body'])
    .where('project_id', '=', project)
    .where('component_id', '=', componentId)
    .where('version', '=', version)
    .where('deploy_type', 'in', ['deploy', 'upgrade'])
    .where('body', '!=', '');
  if (exceptJobIds.length > 0) q = q.where('job_id', 'not in', exceptJobIds);
  const row = await q
    .orderBy('begin_ms', 'desc')
    .orderBy('job_id', 'desc')
    .executeTakeFirst();
  return row ? unsealBody(row.body, box) : undefined;
}

/** The newest record of a component among `deployTypes` (by begin time, then job id), or undefined. */
export async function newestRecordOf(db: Executor, project: string, componentId: string, deployTypes: string[]): Promise<ComponentRecord | undefined> {
  const row = await db
    .selectFrom('cas_component_records')
    .selectAll()
    .where('project_id', '=', project)
    .where('component_id', '=', componentId)
    .where('deploy_type', 'in', deployTypes)
    .orderBy('begin_ms', 'desc')
    .orderBy('job_id', 'desc')
    .executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

/** A component's records (unordered). */
export async function listRecords(db: Executor, project: string, componentId: string): Promise<ComponentRecord[]> {
  return (await db.selectFrom('cas_component_records').selectAll().where('project_id', '=', project).where('component_id', '=', componentId).execute()).map(toRecord);
}

/** Sets the final status and end time of a record. */
export async function finishRecord(db: Executor, jobId: string, status: RecordStatus, endMs: number): Promise<void> {
  await db.updateTable('cas_component_records').set({ status, end_ms: endMs }).where('job_id', '=', jobId).execute();
}
