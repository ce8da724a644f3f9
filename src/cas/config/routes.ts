import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProjectParams } from '../common/schemas.js';
import { casError } from '../errors.js';
import type { CasServices } from '../index.js';
import {
  ConfigGroupList,
  ConfigGroupParams,
  ConfigGroupWire,
  ConfigList,
  ConfigParams,
  ConfigRecordList,
  ConfigRecordParams,
  ConfigRecordWire,
  ConfigWire,
  CreateConfigBody,
  CreateConfigGroupBody,
  ErrorBody,
  ImportConfigsBody,
  ImportConfigsResult,
  ListConfigGroupsQuery,
  ListConfigsQuery,
  UpdateConfigBody,
  configToWire,
  groupToWire,
  importToWire,
  recordToWire,
  type CreateConfigBodyWire,
  type CreateConfigGroupBodyWire,
  type ImportConfigsBodyWire,
  type ListConfigGroupsQueryWire,
  type ListConfigsQueryWire,
  type UpdateConfigBodyWire,
} from './schemas.js';
import { ListQuery, type ListQueryWire } from '../common/schemas.js';

const tags = ['cas-config'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 500: ErrorBody };
/** DELETE answers 200 with an empty body (§12.2: even when the resource is absent). */
const empty = { 200: { type: 'null' } as const, ...errors };

type P = { project: string };
const creatorOf = (req: FastifyRequest): string => req.principal?.userName ?? '';

/** Config group, config file, record and import routes (servicestage.md §7). */
export function configRoutes(app: FastifyInstance, { configs }: CasServices): void {
  // ---- groups ----
  app.post(
    '/config-groups',
    { schema: { operationId: 'CreateConfigGroup', summary: 'Create a config group', tags, params: ProjectParams, body: CreateConfigGroupBody, response: { 200: ConfigGroupWire, ...errors } } },
    async (req) => groupToWire(await configs.createGroup((req.params as P).project, creatorOf(req), req.body as CreateConfigGroupBodyWire)),
  );
  app.get(
    '/config-groups',
    { schema: { operationId: 'ListConfigGroups', summary: 'List config groups', tags, params: ProjectParams, querystring: ListConfigGroupsQuery, response: { 200: ConfigGroupList, ...errors } } },
    async (req) => {
      const page = await configs.listGroups((req.params as P).project, req.query as ListConfigGroupsQueryWire);
      return { count: page.total, config_groups: page.items.map(groupToWire) };
    },
  );
  app.get(
    '/config-groups/:config_group_id',
    { schema: { operationId: 'ShowConfigGroup', summary: 'Get a config group', tags, params: ConfigGroupParams, response: { 200: ConfigGroupWire, ...errors } } },
    async (req) => {
      const { project, config_group_id } = req.params as P & { config_group_id: string };
      return groupToWire(await configs.getGroup(project, config_group_id));
    },
  );
  app.delete(
    '/config-groups/:config_group_id',
    { schema: { operationId: 'DeleteConfigGroup', summary: 'Delete an empty config group', tags, params: ConfigGroupParams, response: empty } },
    async (req, reply) => {
      const { project, config_group_id } = req.params as P & { config_group_id: string };
      await configs.deleteGroup(project, config_group_id);
      return reply.code(200).send();
    },
  );

  // ---- files ----
  app.post(
    '/configs',
    { schema: { operationId: 'CreateConfig', summary: 'Create a config file', tags, params: ProjectParams, body: CreateConfigBody, response: { 200: ConfigWire, ...errors } } },
    async (req) => configToWire(await configs.createConfig((req.params as P).project, creatorOf(req), req.body as CreateConfigBodyWire)),
  );
  app.post(
    '/configs/import',
    { schema: { operationId: 'ImportConfigs', summary: 'Import config files from a .zip (multipart field upload_file)', tags, params: ProjectParams, body: ImportConfigsBody, response: { 200: ImportConfigsResult, ...errors } } },
    async (req) => {
      const { fields, files } = req.body as ImportConfigsBodyWire;
      // A JSON body may take the form's shape; only a multipart upload carries the bytes.
      if (!Buffer.isBuffer(files.upload_file.bytes)) throw casError('InvalidParameter', 'upload_file must be a file of a multipart/form-data body');
      const target = { ...(fields.config_group_id ? { groupId: fields.config_group_id } : {}), ...(fields.config_group_name ? { groupName: fields.config_group_name } : {}) };
      return importToWire(await configs.importArchive((req.params as P).project, creatorOf(req), files.upload_file.bytes, target));
    },
  );
  app.get(
    '/configs',
    { schema: { operationId: 'ListConfigs', summary: 'List config files', tags, params: ProjectParams, querystring: ListConfigsQuery, response: { 200: ConfigList, ...errors } } },
    async (req) => {
      const page = await configs.listConfigs((req.params as P).project, req.query as ListConfigsQueryWire);
      return { count: page.total, configs: page.items.map(configToWire) };
    },
  );
  app.get(
    '/configs/:config_id',
    { schema: { operationId: 'ShowConfig', summary: 'Get a config file', tags, params: ConfigParams, response: { 200: ConfigWire, ...errors } } },
    async (req) => {
      const { project, config_id } = req.params as P & { config_id: string };
      return configToWire(await configs.getConfig(project, config_id));
    },
  );
  app.put(
    '/configs/:config_id',
    { schema: { operationId: 'ModifyConfig', summary: 'Modify a config file (full body)', tags, params: ConfigParams, body: UpdateConfigBody, response: { 200: ConfigWire, ...errors } } },
    async (req) => {
      const { project, config_id } = req.params as P & { config_id: string };
      return configToWire(await configs.modifyConfig(project, creatorOf(req), config_id, req.body as UpdateConfigBodyWire));
    },
  );
  app.delete(
    '/configs/:config_id',
    { schema: { operationId: 'DeleteConfig', summary: 'Delete a config file and its records', tags, params: ConfigParams, response: empty } },
    async (req, reply) => {
      const { project, config_id } = req.params as P & { config_id: string };
      await configs.deleteConfig(project, config_id);
      return reply.code(200).send();
    },
  );

  // ---- records ----
  app.get(
    '/configs/:config_id/histories',
    { schema: { operationId: 'ListConfigHistories', summary: 'List the records of a config file', tags, params: ConfigParams, querystring: ListQuery, response: { 200: ConfigRecordList, ...errors } } },
    async (req) => {
      const { project, config_id } = req.params as P & { config_id: string };
      const page = await configs.listRecords(project, config_id, req.query as ListQueryWire);
      return { count: page.total, histories: page.items.map(recordToWire) };
    },
  );
  app.get(
    '/configs/:config_id/histories/:config_history_id',
    { schema: { operationId: 'ShowConfigHistory', summary: 'Get a record of a config file', tags, params: ConfigRecordParams, response: { 200: ConfigRecordWire, ...errors } } },
    async (req) => {
      const { project, config_id, config_history_id } = req.params as P & { config_id: string; config_history_id: string };
      return recordToWire(await configs.getRecord(project, config_id, config_history_id));
    },
  );
  app.delete(
    '/configs/:config_id/histories/:config_history_id',
    { schema: { operationId: 'DeleteConfigHistory', summary: 'Delete a record of a config file', tags, params: ConfigRecordParams, response: empty } },
    async (req, reply) => {
      const { project, config_id, config_history_id } = req.params as P & { config_id: string; config_history_id: string };
      await configs.deleteRecord(project, config_id, config_history_id);
      return reply.code(200).send();
    },
  );
}
