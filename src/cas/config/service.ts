import { newHexId } from '../../core/ids.js';
import { AlreadyExistsError } from '../../core/errors.js';
import { Mutex } from '../../core/mutex.js';
import type { Executor } from '../../core/db/kysely.js';
import { paginate, type PageQuery } from '../common/page.js';
import { casError } from '../errors.js';
import type { CasDeps } from '../types.js';
import { checkContent } from './content.js';
import { readArchive } from './import.js';
import { renderConfig } from './render.js';
import * as configStore from './store.js';
import type {
  ConfigFile,
  ConfigFileView,
  ConfigGroup,
  ConfigGroupInput,
  ConfigInput,
  ConfigRecord,
  ConfigRecordView,
  ImportedFile,
  ImportResult,
  RenderedConfig,
} from './types.js';

/** Where the top-level files of an imported archive go: a group id or name (created when missing). */
export interface ImportTarget {
  groupId?: string;
  groupName?: string;
}

/**
 * Configuration management (servicestage.md §7): config groups, config files, their records
 * (one per superseded version), .zip import and variable substitution for mounts.
 *
 * Rules (OpenStage decisions where the spec is silent, see README.md):
 * - group names are unique per project, file names per group (400 SVCSTG.00100459);
 * - a group that still holds files is not deleted (400 SVCSTG.00100402); deleting an absent
 *   group or file succeeds (§12.2);
 * - a file mounted by a component is not deleted (400 SVCSTG.00100402); deleting a file
 *   deletes its records;
 * - a modify that changes nothing writes nothing; any change writes one record holding the
 *   previous version and increments `version`;
 * - missing groups, files and records are 404 SVCSTG.00100404.
 * Writes run under one mutex (versions increase without gaps in one process) and each in
 * one transaction; the version check in the update guards replicas sharing PostgreSQL.
 */
export class ConfigService {
  private readonly writes = new Mutex();

  constructor(readonly deps: CasDeps) {}

  private get db() {
    return this.deps.db.kysely;
  }
  private get box() {
    return this.deps.secrets;
  }

  // ---- groups ----

  /**
   * Creates a config group (§7 Create group).
   * @throws SVCSTG.00100459 (400) when the name is used in the project
   */
  async createGroup(project: string, creator: string, input: ConfigGroupInput): Promise<ConfigGroup> {
    const now = this.deps.clock.now();
    const group: ConfigGroup = {
      id: newHexId(),
      project,
      name: input.name,
      description: input.description ?? '',
      creator,
      enterpriseProjectId: input.enterprise_project_id || '0',
      labels: input.labels ?? [],
      createTimeMs: now,
      updateTimeMs: now,
    };
    await this.writes.run(() =>
      this.db.transaction().execute(async (trx) => {
        await this.insertGroup(trx, group);
      }),
    );
    return group;
  }

  private async insertGroup(trx: Executor, group: ConfigGroup): Promise<void> {
    if (await configStore.findGroupByName(trx, group.project, group.name)) throw casError('NameUsed', `config group "${group.name}" already exists`);
    try {
      await configStore.insertGroup(trx, group);
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw casError('NameUsed', `config group "${group.name}" already exists`);
      throw err;
    }
  }

  /** The project's groups, `name` an exact filter, ordered and paged (§1 Pagination). */
  async listGroups(project: string, query: PageQuery & { name?: string }): Promise<{ items: ConfigGroup[]; total: number }> {
    const groups = await configStore.listGroups(this.db, project, query.name);
    const page = paginate(groups.map(orderable), query);
    return { items: page.items.map((o) => o.item), total: page.total };
  }

  /** One group. @throws SVCSTG.00100404 (404) when absent */
  async getGroup(project: string, id: string): Promise<ConfigGroup> {
    const group = await configStore.findGroup(this.db, project, id);
    if (!group) throw casError('ResourceNotFound', `config group ${id} does not exist`);
    return group;
  }

  /**
   * Deletes a group; an absent group is not an error (§12.2).
   * @throws SVCSTG.00100402 (400) when it still holds config files
   */
  async deleteGroup(project: string, id: string): Promise<void> {
    await this.writes.run(() =>
      this.db.transaction().execute(async (trx) => {
        const files = await configStore.countFilesInGroup(trx, project, id);
        if (files > 0) throw casError('AlreadyDeployed', `config group ${id} still holds ${files} config file(s); delete them first`);
        await configStore.deleteGroup(trx, project, id);
      }),
    );
  }

  // ---- files ----

  /**
   * Creates a config file (§7 Create file), version 1.
   * @throws SVCSTG.00100400 when the group does not exist or the content does not fit its type;
   *   SVCSTG.00100459 when the name is used in the group
   */
  async createConfig(project: string, creator: string, input: ConfigInput): Promise<ConfigFileView> {
    checkContent(input.type, input.content, 'body/content');
    const now = this.deps.clock.now();
    const file = await this.writes.run(() =>
      this.db.transaction().execute(async (trx) => {
        const group = await this.groupForFile(trx, project, input.config_group_id ?? '');
        const created: ConfigFile = {
          id: newHexId(),
          project,
          groupId: group.id,
          name: input.name,
          description: input.description ?? '',
          type: input.type,
          content: input.content,
          sensitive: input.sensitive ?? false,
          version: 1,
          creator,
          modifier: creator,
          enterpriseProjectId: group.enterpriseProjectId,
          createTimeMs: now,
          updateTimeMs: now,
        };
        await this.insertFile(trx, created, group.name);
        return created;
      }),
    );
    return this.view(file);
  }

  private async groupForFile(trx: Executor, project: string, groupId: string): Promise<ConfigGroup> {
    const group = await configStore.findGroup(trx, project, groupId);
    if (!group) throw casError('InvalidParameter', `body/config_group_id: config group ${groupId} does not exist`);
    return group;
  }

  private async insertFile(trx: Executor, file: ConfigFile, groupName: string): Promise<void> {
    const used = `config file "${file.name}" already exists in config group "${groupName}"`;
    if (await configStore.findFileByName(trx, this.box, file.project, file.groupId, file.name)) throw casError('NameUsed', used);
    try {
      await configStore.insertFile(trx, this.box, file);
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw casError('NameUsed', used);
      throw err;
    }
  }

  /**
   * The project's config files: `name` and `config_group_id` exact filters, `component_id`
   * keeps files that component mounts; ordered and paged (§1 Pagination).
   */
  async listConfigs(project: string, query: PageQuery & { name?: string; config_group_id?: string; component_id?: string }): Promise<{ items: ConfigFileView[]; total: number }> {
    const files = await configStore.listFiles(this.db, this.box, project, {
      ...(query.name !== undefined ? { name: query.name } : {}),
      ...(query.config_group_id !== undefined ? { groupId: query.config_group_id } : {}),
    });
    const views = await Promise.all(files.map((f) => this.view(f)));
    const kept = query.component_id === undefined ? views : views.filter((v) => v.components.some((c) => c.component_id === query.component_id));
    const page = paginate(kept.map(orderable), query);
    return { items: page.items.map((o) => o.item), total: page.total };
  }

  /** One config file with the components that mount it. @throws SVCSTG.00100404 (404) when absent */
  async getConfig(project: string, id: string): Promise<ConfigFileView> {
    return this.view(await this.mustFindFile(this.db, project, id));
  }

  private async mustFindFile(db: Executor, project: string, id: string): Promise<ConfigFile> {
    const file = await configStore.findFile(db, this.box, project, id);
    if (!file) throw casError('ResourceNotFound', `config file ${id} does not exist`);
    return file;
  }

  private async view(file: ConfigFile): Promise<ConfigFileView> {
    return { ...file, components: await this.deps.components.mountsOfConfig(file.project, file.id) };
  }

  /**
   * Modifies a config file with a full body (§7 Modify file): absent `config_group_id` and
   * `sensitive` keep theirs, absent `description` clears it as "" does. When anything
   * changes, the previous version is kept as a record and `version` grows by one; a body
   * equal to the stored file writes nothing.
   * @throws SVCSTG.00100404 (404) when the file is absent; SVCSTG.00100400 when the new group
   *   does not exist or the content does not fit its type; SVCSTG.00100459 when the name is
   *   used in the group; SVCSTG.00100409 (409) when another replica changed it meanwhile
   */
  async modifyConfig(project: string, modifier: string, id: string, input: ConfigInput): Promise<ConfigFileView> {
    checkContent(input.type, input.content, 'body/content');
    const { file, changed } = await this.writes.run(() =>
      this.db.transaction().execute(async (trx) => {
        const current = await this.mustFindFile(trx, project, id);
        const group = await this.groupForFile(trx, project, input.config_group_id ?? current.groupId);
        const next: ConfigFile = {
          ...current,
          groupId: group.id,
          name: input.name,
          description: input.description ?? '',
          type: input.type,
          content: input.content,
          sensitive: input.sensitive ?? current.sensitive,
        };
        if (sameFile(current, next)) return { file: current, changed: false };
        return { file: await this.writeVersion(trx, current, { ...next, modifier }, group.name), changed: true };
      }),
    );
    if (changed) this.deps.bus.publish('cas.config.changed', { project, configId: file.id, version: file.version });
    return this.view(file);
  }

  /** Stores `next` as the version after `current`, keeping `current` as a record. */
  private async writeVersion(trx: Executor, current: ConfigFile, next: ConfigFile, groupName: string): Promise<ConfigFile> {
    const written: ConfigFile = { ...next, version: current.version + 1, updateTimeMs: this.deps.clock.now() };
    if (written.groupId !== current.groupId || written.name !== current.name) {
      if (await configStore.findFileByName(trx, this.box, written.project, written.groupId, written.name)) {
        throw casError('NameUsed', `config file "${written.name}" already exists in config group "${groupName}"`);
      }
    }
    await configStore.insertRecord(trx, this.box, {
      id: newHexId(),
      project: current.project,
      configId: current.id,
      groupId: current.groupId,
      configName: current.name,
      description: current.description,
      type: current.type,
      content: current.content,
      sensitive: current.sensitive,
      version: current.version,
      creator: current.modifier,
      createTimeMs: current.updateTimeMs,
    });
    let stored: boolean;
    try {
      stored = await configStore.updateFile(trx, this.box, written, current.version);
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw casError('NameUsed', `config file "${written.name}" already exists in config group "${groupName}"`);
      throw err;
    }
    if (!stored) throw casError('Conflict', `config file ${current.id} was changed by another request; retry`);
    return written;
  }

  /**
   * Deletes a config file and its records; an absent file is not an error (§12.2).
   * @throws SVCSTG.00100402 (400) when components mount it
   */
  async deleteConfig(project: string, id: string): Promise<void> {
    // Asked before the transaction: the component service may query its own tables.
    const mounts = await this.deps.components.mountsOfConfig(project, id);
    if (mounts.length > 0) throw casError('AlreadyDeployed', `config file ${id} is mounted by component(s) ${mounts.map((m) => m.component_name).join(', ')}`);
    await this.writes.run(() => this.db.transaction().execute((trx) => configStore.deleteFile(trx, project, id)));
  }

  // ---- records ----

  /**
   * The records of a config file (§7 Records), newest version first (`order=asc` oldest
   * first; `order_by` is ignored: records are ordered by version), paged by offset/limit.
   * @throws SVCSTG.00100404 (404) when the file is absent
   */
  async listRecords(project: string, configId: string, query: PageQuery): Promise<{ items: ConfigRecordView[]; total: number }> {
    await this.mustFindFile(this.db, project, configId);
    const records = await configStore.listRecords(this.db, this.box, project, configId);
    const sign = query.order === 'asc' ? 1 : -1;
    records.sort((a, b) => (a.version - b.version) * sign);
    const offset = query.offset ?? 0;
    const page = records.slice(offset, query.limit ? offset + query.limit : undefined);
    const components = await this.deps.components.mountsOfConfig(project, configId);
    return { items: page.map((r) => ({ ...r, components })), total: records.length };
  }

  /** One record. @throws SVCSTG.00100404 (404) when the file or the record is absent */
  async getRecord(project: string, configId: string, recordId: string): Promise<ConfigRecordView> {
    await this.mustFindFile(this.db, project, configId);
    const record = await configStore.findRecord(this.db, this.box, project, configId, recordId);
    if (!record) throw casError('ResourceNotFound', `record ${recordId} of config file ${configId} does not exist`);
    return { ...record, components: await this.deps.components.mountsOfConfig(project, configId) };
  }

  /** Deletes one record; an absent record (or file) is not an error. */
  async deleteRecord(project: string, configId: string, recordId: string): Promise<void> {
    await this.writes.run(() => this.db.transaction().execute((trx) => configStore.deleteRecord(trx, project, configId, recordId)));
  }

  // ---- import ----

  /**
   * Imports a .zip of config files (§7 Import; layout in import.ts). Everything is checked
   * before anything is written and all writes share one transaction: either every file is
   * imported or nothing is. A file whose name exists in its group is modified as by PUT
   * (record + version) when its content or type differs, else left unchanged.
   * @param target the group of top-level files (id, or name created when missing)
   * @throws SVCSTG.00100400 for a bad archive (import.ts), top-level files without a target,
   *   or a target id that does not exist
   */
  async importArchive(project: string, creator: string, archive: Uint8Array, target: ImportTarget): Promise<ImportResult> {
    const entries = readArchive(archive);
    const now = this.deps.clock.now();
    const result = await this.writes.run(() =>
      this.db.transaction().execute(async (trx) => {
        const groups = new Map<string, ConfigGroup>();
        const createdGroups: ConfigGroup[] = [];
        const groupNamed = async (name: string): Promise<ConfigGroup> => {
          let group = groups.get(name) ?? (await configStore.findGroupByName(trx, project, name));
          if (!group) {
            group = { id: newHexId(), project, name, description: '', creator, enterpriseProjectId: '0', labels: [], createTimeMs: now, updateTimeMs: now };
            await this.insertGroup(trx, group);
            createdGroups.push(group);
          }
          groups.set(name, group);
          return group;
        };
        let topGroup: ConfigGroup | undefined;
        if (entries.some((e) => e.groupName === undefined)) {
          if (target.groupId) {
            topGroup = await configStore.findGroup(trx, project, target.groupId);
            if (!topGroup) throw casError('InvalidParameter', `config_group_id: config group ${target.groupId} does not exist`);
          } else if (target.groupName) {
            topGroup = await groupNamed(target.groupName);
          } else {
            const first = entries.find((e) => e.groupName === undefined)!;
            throw casError('InvalidParameter', `upload_file: entry "${first.path}" is not in a folder; put it in a folder named after its group or name the group with the config_group_id or config_group_name field`);
          }
        }
        const files: ImportedFile[] = [];
        const pathOf = new Map<string, string>();
        for (const entry of entries) {
          const group = entry.groupName === undefined ? topGroup! : await groupNamed(entry.groupName);
          // A folder and the top-level target may name the same group.
          const other = pathOf.get(`${group.id}/${entry.name}`);
          if (other) throw casError('InvalidParameter', `upload_file: entries "${other}" and "${entry.path}" are both config file "${entry.name}" of group "${group.name}"`);
          pathOf.set(`${group.id}/${entry.name}`, entry.path);
          const existing = await configStore.findFileByName(trx, this.box, project, group.id, entry.name);
          if (!existing) {
            const created: ConfigFile = {
              id: newHexId(),
              project,
              groupId: group.id,
              name: entry.name,
              description: '',
              type: entry.type,
              content: entry.content,
              sensitive: false,
              version: 1,
              creator,
              modifier: creator,
              enterpriseProjectId: group.enterpriseProjectId,
              createTimeMs: now,
              updateTimeMs: now,
            };
            await this.insertFile(trx, created, group.name);
            files.push({ path: entry.path, action: 'created', config: created, groupName: group.name });
          } else if (existing.content === entry.content && existing.type === entry.type) {
            files.push({ path: entry.path, action: 'unchanged', config: existing, groupName: group.name });
          } else {
            const written = await this.writeVersion(trx, existing, { ...existing, type: entry.type, content: entry.content, modifier: creator }, group.name);
            files.push({ path: entry.path, action: 'updated', config: written, groupName: group.name });
          }
        }
        return { files, createdGroups };
      }),
    );
    for (const f of result.files) if (f.action === 'updated') this.deps.bus.publish('cas.config.changed', { project, configId: f.config.id, version: f.config.version });
    return result;
  }

  // ---- substitution ----

  /**
   * The content of a config file with its system-variable placeholders replaced (render.ts),
   * for the deployment engine when a component mounts the file.
   * @param variables system variable values of the mounting component
   * @throws SVCSTG.00100404 (404) when the file is absent
   */
  async renderForMount(project: string, configId: string, variables: Readonly<Record<string, string>>): Promise<RenderedConfig> {
    const file = await this.mustFindFile(this.db, project, configId);
    return { id: file.id, name: file.name, type: file.type, version: file.version, sensitive: file.sensitive, content: renderConfig(file.content, variables) };
  }
}

/** True when a modify would change nothing. */
function sameFile(a: ConfigFile, b: ConfigFile): boolean {
  return a.groupId === b.groupId && a.name === b.name && a.description === b.description && a.type === b.type && a.content === b.content && a.sensitive === b.sensitive;
}

/** Adapts a group or file to paginate(): its wire timestamps under the Orderable names. */
function orderable<T extends { id: string; name: string; createTimeMs: number; updateTimeMs: number }>(item: T): T & { create_time: number; update_time: number; item: T } {
  return { ...item, create_time: item.createTimeMs, update_time: item.updateTimeMs, item };
}
