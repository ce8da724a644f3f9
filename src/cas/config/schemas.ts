import { Type, type Static } from '@sinclair/typebox';
import type { ComponentRef } from '../types.js';
import { EnterpriseProjectId, ErrorBody, Labels, ListQuery, ProjectParams, ResourceName } from '../common/schemas.js';
import { MAX_CONTENT_CHARS } from './content.js';
import type { ConfigFileView, ConfigGroup, ConfigRecordView, ImportResult } from './types.js';

/**
 * Wire contract of configuration management (servicestage.md §7) and the toWire
 * converters. Times are epoch milliseconds.
 */

const Id = Type.String({ minLength: 1, maxLength: 64 });
/** `yaml` | `properties`, as an enum so that a bad value is reported with the allowed ones. */
const ConfigType = Type.Unsafe<'yaml' | 'properties'>({ type: 'string', enum: ['yaml', 'properties'] });

export const ConfigGroupParams = Type.Composite([ProjectParams, Type.Object({ config_group_id: Id })]);
export const ConfigParams = Type.Composite([ProjectParams, Type.Object({ config_id: Id })]);
export const ConfigRecordParams = Type.Composite([ProjectParams, Type.Object({ config_id: Id, config_history_id: Id })]);

/** `POST /config-groups` body. */
export const CreateConfigGroupBody = Type.Object({
  name: ResourceName,
  description: Type.Optional(Type.String({ maxLength: 256 })),
  enterprise_project_id: Type.Optional(EnterpriseProjectId),
  labels: Type.Optional(Labels),
});
export type CreateConfigGroupBodyWire = Static<typeof CreateConfigGroupBody>;

export const ListConfigGroupsQuery = Type.Composite([ListQuery, Type.Object({ name: Type.Optional(Type.String({ maxLength: 64 })) })]);
export type ListConfigGroupsQueryWire = Static<typeof ListConfigGroupsQuery>;

/** A config group on the wire; `description` is null when empty (D:0192). */
export const ConfigGroupWire = Type.Object({
  id: Type.String(),
  project_id: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  creator: Type.String(),
  enterprise_project_id: Type.String(),
  labels: Labels,
  create_time: Type.Integer(),
  update_time: Type.Integer(),
});

/** `GET /config-groups`; the list key `config_groups` is INF (servicestage.md §13). */
export const ConfigGroupList = Type.Object({ count: Type.Integer(), config_groups: Type.Array(ConfigGroupWire) });

/** `POST /configs` body; `PUT /configs/{id}` takes the same full body (config_group_id optional there). */
export const CreateConfigBody = Type.Object({
  config_group_id: Id,
  name: ResourceName,
  content: Type.String({ maxLength: MAX_CONTENT_CHARS }),
  type: ConfigType,
  sensitive: Type.Optional(Type.Boolean({ default: false })),
  description: Type.Optional(Type.String({ maxLength: 128 })),
});
export type CreateConfigBodyWire = Static<typeof CreateConfigBody>;

/** `PUT /configs/{id}`: the full body again; absent config_group_id and sensitive keep theirs. */
export const UpdateConfigBody = Type.Object({
  config_group_id: Type.Optional(Id),
  name: ResourceName,
  content: Type.String({ maxLength: MAX_CONTENT_CHARS }),
  type: ConfigType,
  sensitive: Type.Optional(Type.Boolean()),
  description: Type.Optional(Type.String({ maxLength: 128 })),
});
export type UpdateConfigBodyWire = Static<typeof UpdateConfigBody>;

export const ListConfigsQuery = Type.Composite([
  ListQuery,
  Type.Object({ name: Type.Optional(Type.String({ maxLength: 64 })), config_group_id: Type.Optional(Id), component_id: Type.Optional(Id) }),
]);
export type ListConfigsQueryWire = Static<typeof ListConfigsQuery>;

const ComponentRefWire = Type.Object({ environment_id: Type.String(), application_id: Type.String(), component_id: Type.String(), component_name: Type.String() });

/** A config file on the wire (D:0196). */
export const ConfigWire = Type.Object({
  id: Type.String(),
  config_group_id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  creator: Type.String(),
  type: ConfigType,
  content: Type.String(),
  /** A string on the wire (API reference D:0196, Terraform's servicestagev3_configuration); counts 1, 2, … */
  version: Type.String(),
  project_id: Type.String(),
  sensitive: Type.Boolean(),
  components: Type.Array(ComponentRefWire),
  create_time: Type.Integer(),
  update_time: Type.Integer(),
  enterprise_project_id: Type.String(),
});

export const ConfigList = Type.Object({ count: Type.Integer(), configs: Type.Array(ConfigWire) });

/** A record on the wire (D:0199). */
export const ConfigRecordWire = Type.Object({
  config_history_id: Type.String(),
  config_id: Type.String(),
  content: Type.String(),
  version: Type.String(),
  type: ConfigType,
  create_time: Type.Integer(),
  components: Type.Array(ComponentRefWire),
  creator: Type.String(),
  group_id: Type.String(),
  config_name: Type.String(),
  description: Type.String(),
});

export const ConfigRecordList = Type.Object({ count: Type.Integer(), histories: Type.Array(ConfigRecordWire) });

/**
 * `POST /configs/import` multipart form: `upload_file` (the .zip) and optionally
 * `config_group_id` or `config_group_name` for the archive's top-level files.
 */
export const ImportConfigsBody = Type.Object({
  fields: Type.Object({
    config_group_id: Type.Optional(Id),
    config_group_name: Type.Optional(ResourceName),
  }),
  files: Type.Object({ upload_file: Type.Object({ filename: Type.String() }) }),
});
export type ImportConfigsBodyWire = Static<typeof ImportConfigsBody> & { files: { upload_file: { bytes: Buffer } } };

/** The answer of an import (INF: the real one is not documented). */
export const ImportConfigsResult = Type.Object({
  count: Type.Integer(),
  configs: Type.Array(
    Type.Object({
      path: Type.String(),
      result: Type.Union([Type.Literal('created'), Type.Literal('updated'), Type.Literal('unchanged')]),
      id: Type.String(),
      name: Type.String(),
      type: ConfigType,
      version: Type.String(),
      config_group_id: Type.String(),
      config_group_name: Type.String(),
    }),
  ),
  created_config_groups: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
});

export { ErrorBody };

const refs = (components: ComponentRef[]): ComponentRef[] =>
  components.map((c) => ({ environment_id: c.environment_id, application_id: c.application_id, component_id: c.component_id, component_name: c.component_name }));

/** A group as the wire shows it. */
export function groupToWire(g: ConfigGroup): Static<typeof ConfigGroupWire> {
  return {
    id: g.id,
    project_id: g.project,
    name: g.name,
    description: g.description === '' ? null : g.description,
    creator: g.creator,
    enterprise_project_id: g.enterpriseProjectId,
    labels: g.labels,
    create_time: g.createTimeMs,
    update_time: g.updateTimeMs,
  };
}

/** A config file as the wire shows it. */
export function configToWire(f: ConfigFileView): Static<typeof ConfigWire> {
  return {
    id: f.id,
    config_group_id: f.groupId,
    name: f.name,
    description: f.description,
    creator: f.creator,
    type: f.type,
    content: f.content,
    version: String(f.version),
    project_id: f.project,
    sensitive: f.sensitive,
    components: refs(f.components),
    create_time: f.createTimeMs,
    update_time: f.updateTimeMs,
    enterprise_project_id: f.enterpriseProjectId,
  };
}

/** A record as the wire shows it. */
export function recordToWire(r: ConfigRecordView): Static<typeof ConfigRecordWire> {
  return {
    config_history_id: r.id,
    config_id: r.configId,
    content: r.content,
    version: String(r.version),
    type: r.type,
    create_time: r.createTimeMs,
    components: refs(r.components),
    creator: r.creator,
    group_id: r.groupId,
    config_name: r.configName,
    description: r.description,
  };
}

/** An import answer as the wire shows it. */
export function importToWire(r: ImportResult): Static<typeof ImportConfigsResult> {
  return {
    count: r.files.length,
    configs: r.files.map((f) => ({
      path: f.path,
      result: f.action,
      id: f.config.id,
      name: f.config.name,
      type: f.config.type,
      version: String(f.config.version),
      config_group_id: f.config.groupId,
      config_group_name: f.groupName,
    })),
    created_config_groups: r.createdGroups.map((g) => ({ id: g.id, name: g.name })),
  };
}
