import { arch, platform } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { RegistryPluginOptions } from '../index.js';

/**
 * `/health` (S36) lists the server's own SERVICECENTER instances with their `rest://`
 * endpoints; `/version` (S35). Served at the root and under `/v4/{project}/registry`.
 */
export function healthRoutes(app: FastifyInstance, { registry, version, cluster }: RegistryPluginOptions, scoped: boolean): void {
  app.get('/health', { config: { permission: 'public' } }, async () => {
    const instances = registry.selfInstances();
    return instances.length > 0 ? { instances } : {};
  });
  // The cluster view (OpenStage's own; docs/cluster.md): every server sharing the database, live or
  // recently seen, its version, and which one leads. At the root only.
  if (!scoped && cluster) {
    app.get('/cluster', { config: { permission: 'public' } }, async () => {
      const view = await cluster();
      return {
        database: view.database,
        self: view.self,
        leader: view.leader,
        servers: view.servers.map((s) => ({
          serverId: s.serverId,
          url: s.url,
          version: s.version,
          live: s.live,
          leader: s.leader,
          startedAt: new Date(s.startedAtMs).toISOString(),
          renewedAt: new Date(s.renewedAtMs).toISOString(),
        })),
      };
    });
  }
  app.get('/version', { config: { permission: 'public' } }, async () => ({
    version,
    buildTag: `openstage-${version}`,
    runMode: 'prod',
    apiVersion: '4.0.0',
    os: platform(),
    arch: arch(),
  }));
}
