import type { FastifyInstance } from 'fastify';
import { OpenStageError } from '../../core/errors.js';
import { sendJsonText, setExactCaseHeader, serviceCombErrorBody, type ServiceCombErrorBody } from '../../core/wire/servicecomb.js';
import { registryError } from '../errors.js';
import { tenantOf, type RegistryPluginOptions } from '../index.js';
import { BatchFindBody, FindQuery, ProjectParams } from '../schemas.js';
import { consumerOf } from './instance.js';

/** Per-list outcome; `updated` items are pre-serialised JSON (cached find bodies are spliced in, never re-parsed). */
interface BatchOutcome {
  updated: string[];
  notModified: number[];
  failed: Map<string, { indexes: number[]; error: ServiceCombErrorBody }>;
}

const newOutcome = (): BatchOutcome => ({ updated: [], notModified: [], failed: new Map() });

function fail(outcome: BatchOutcome, index: number, err: unknown): void {
  if (!(err instanceof OpenStageError)) throw err;
  const entry = outcome.failed.get(err.code) ?? { indexes: [], error: serviceCombErrorBody(err) };
  entry.indexes.push(index);
  outcome.failed.set(err.code, entry);
}

/** `{"index":i,"rev":"…","instances":[…]}` from a find body `{"instances":[…]}` or `{}`. */
function updatedJson(index: number, rev: string, body: Buffer | string): string {
  const text = body.toString();
  const instances = text === '{}' ? '' : `,"instances":${text.slice('{"instances":'.length, -1)}`;
  return `{"index":${index},"rev":${JSON.stringify(rev)}${instances}}`;
}

function outcomeJson(o: BatchOutcome): string | undefined {
  const parts: string[] = [];
  if (o.updated.length) parts.push(`"updated":[${o.updated.join(',')}]`);
  if (o.notModified.length) parts.push(`"notModified":${JSON.stringify(o.notModified)}`);
  if (o.failed.size) parts.push(`"failed":${JSON.stringify([...o.failed.values()])}`);
  return parts.length ? `{${parts.join(',')}}` : undefined;
}

/** Discovery routes S22 (find) and S23 (batch find), servicecomb.md §1.2–§1.3. */
export function discoveryRoutes(app: FastifyInstance, { registry }: RegistryPluginOptions): void {
  app.get('/instances', { config: { permission: { resource: 'service', verb: 'get' } }, schema: { operationId: 'FindInstances', params: ProjectParams, querystring: FindQuery } }, async (req, reply) => {
    const q = req.query as { appId?: string; serviceName?: string; env?: string; version?: string; tags?: string; rev?: string };
    if (!q.serviceName) throw registryError('InvalidParams', 'serviceName is required');
    const tenant = tenantOf(req);
    const query = {
      consumerId: consumerOf(req.headers),
      appId: q.appId || 'default',
      serviceName: q.serviceName,
      environment: q.env,
      version: q.version,
      tags: q.tags ? q.tags.split(',').filter(Boolean) : undefined,
    };
    const found = registry.fresh(() => registry.find(tenant, query));
    const result = found instanceof Promise ? await found : found;
    setExactCaseHeader(reply, 'X-Resource-Revision', result.rev);
    if (q.rev && q.rev === result.rev) return reply.code(304).send();
    return sendJsonText(reply, result.body);
  });

  app.post('/instances/action', { config: { permission: { resource: 'service', verb: 'create' }, keepUnderLoad: true }, schema: { operationId: 'BatchFindInstances', params: ProjectParams, body: BatchFindBody } }, async (req, reply) => {
    if ((req.query as { type?: string }).type !== 'query') throw registryError('InvalidParams', 'type must be query');
    const body = req.body as { services?: { service: Record<string, string>; rev?: string }[]; instances?: { instance: Record<string, string>; rev?: string }[] };
    if (!body.services?.length && !body.instances?.length) throw registryError('InvalidParams', 'services and instances are both empty');
    const tenant = tenantOf(req);
    const consumerId = consumerOf(req.headers);
    const services = newOutcome();
    (body.services ?? []).forEach((item, index) => {
      try {
        const s = item.service;
        if (!s.serviceName) throw registryError('InvalidParams', 'serviceName is required');
        const result = registry.find(tenant, { consumerId, appId: s.appId || 'default', serviceName: s.serviceName, environment: s.environment, version: s.version });
        if (item.rev && item.rev === result.rev) services.notModified.push(index);
        else services.updated.push(updatedJson(index, result.rev, result.body));
      } catch (err) {
        fail(services, index, err);
      }
    });
    const instances = newOutcome();
    (body.instances ?? []).forEach((item, index) => {
      try {
        const i = item.instance;
        const { instance, rev } = registry.getInstance(tenant, i.serviceId ?? '', i.instanceId ?? '', consumerId);
        if (item.rev && item.rev === rev) instances.notModified.push(index);
        else instances.updated.push(updatedJson(index, rev, JSON.stringify({ instances: [instance] })));
      } catch (err) {
        fail(instances, index, err);
      }
    });
    const parts: string[] = [];
    const s = outcomeJson(services);
    const i = outcomeJson(instances);
    if (s) parts.push(`"services":${s}`);
    if (i) parts.push(`"instances":${i}`);
    return sendJsonText(reply, `{${parts.join(',')}}`);
  });
}

