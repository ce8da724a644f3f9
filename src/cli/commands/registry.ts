import type { Command } from 'commander';
import { notFound } from '../errors.js';
import { printList } from '../output.js';
import type { Session } from '../session.js';
import type { WithSession } from './types.js';

interface RegistryOptions {
  scProject: string;
  domain?: string;
  scToken?: string;
}

/**
 * Headers of registry and config center calls: the ServiceComb domain (X-Domain-Name) and,
 * with engine RBAC on, `Authorization: Bearer` (--sc-token or OPENSTAGE_SC_TOKEN).
 */
export function serviceCombHeaders(s: Session, o: { domain?: string; token?: string }): Record<string, string> {
  const token = o.token ?? (s.env.OPENSTAGE_SC_TOKEN || undefined);
  return { ...(o.domain ? { 'x-domain-name': o.domain } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) };
}

/** --sc-project, --domain and --sc-token: where a ServiceComb call goes (the registry's and config center's own projects, not IAM's). */
export const serviceCombOptions = (cmd: Command): Command =>
  cmd
    .option('--sc-project <name>', 'ServiceComb project of the registry and config center', 'default')
    .option('--domain <name>', 'ServiceComb domain (X-Domain-Name; default: default)')
    .option('--sc-token <token>', 'engine RBAC token from POST /v4/token (OPENSTAGE_SC_TOKEN), when the server runs with --rbac');

/** `openstage registry services|instances`: the service center's view. */
export function registryCommands(program: Command, withSession: WithSession): void {
  const registry = program.command('registry').description('the ServiceComb service center (registry)');
  serviceCombOptions(registry.command('services').description('microservices registered')).action(
    withSession(async (s, o: RegistryOptions) => {
      const headers = serviceCombHeaders(s, { ...(o.domain ? { domain: o.domain } : {}), ...(o.scToken ? { token: o.scToken } : {}) });
      const services: any[] = (await s.api.get(`/v4/${encodeURIComponent(o.scProject)}/registry/microservices`, { headers })).body?.services ?? [];
      printList(s.format, services, [
        { header: 'APP', get: (x) => x.appId },
        { header: 'SERVICE', get: (x) => x.serviceName },
        { header: 'VERSION', get: (x) => x.version },
        { header: 'ENVIRONMENT', get: (x) => x.environment },
        { header: 'STATUS', get: (x) => x.status },
        { header: 'ID', get: (x) => x.serviceId },
      ]);
    }),
  );
  serviceCombOptions(registry.command('instances <service>').description('instances of a microservice (by name or id; every version)').option('--app <appId>', 'its application (appId) when the name is used in several')).action(
    withSession(async (s, ref: string, o: RegistryOptions & { app?: string }) => {
      const headers = serviceCombHeaders(s, { ...(o.domain ? { domain: o.domain } : {}), ...(o.scToken ? { token: o.scToken } : {}) });
      const base = `/v4/${encodeURIComponent(o.scProject)}/registry`;
      const services: any[] = (await s.api.get(`${base}/microservices`, { headers })).body?.services ?? [];
      const matched = services.filter((x) => x.serviceId === ref || (x.serviceName === ref && (!o.app || x.appId === o.app)));
      if (matched.length === 0) throw notFound(`microservice ${ref}`);
      const rows: any[] = [];
      for (const svc of matched) {
        const instances: any[] = (await s.api.get(`${base}/microservices/${svc.serviceId}/instances`, { headers })).body?.instances ?? [];
        for (const i of instances) rows.push({ ...i, serviceName: svc.serviceName, version: svc.version, appId: svc.appId });
      }
      printList(s.format, rows, [
        { header: 'SERVICE', get: (x) => `${x.appId}/${x.serviceName}` },
        { header: 'VERSION', get: (x) => x.version },
        { header: 'INSTANCE', get: (x) => x.instanceId },
        { header: 'STATUS', get: (x) => x.status },
        { header: 'HOST', get: (x) => x.hostName },
        { header: 'ENDPOINTS', get: (x) => (x.endpoints ?? []).join(' ') },
      ]);
    }),
  );
}
