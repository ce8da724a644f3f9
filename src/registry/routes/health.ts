import { arch, platform } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { RegistryPluginOptions } from '../index.js';

/**
 * `/health` (S36) lists the server's own SERVICECENTER instances with their `rest://`
 * endpoints; `/version` (S35). Served at the root and under `/v4/{project}/registry`.
 */
export function healthRoutes(app: FastifyInstance, { registry, version }: RegistryPluginOptions, _scoped: boolean): void {
  app.get('/health', { config: { permission: 'public' } }, async () => {
    const instances = registry.selfInstances();
    return instances.length > 0 ? { instances } : {};
  });
  app.get('/version', { config: { permission: 'public' } }, async () => ({
    version,
    buildTag: `openstage-${version}`,
    runMode: 'prod',
    apiVersion: '4.0.0',
    os: platform(),
    arch: arch(),
  }));
}
