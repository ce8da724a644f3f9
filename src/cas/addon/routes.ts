import type { FastifyInstance } from 'fastify';
import type { CasServices } from '../index.js';

/** TODO(#5): routes of the addon resource. */
export function addonRoutes(_app: FastifyInstance, _services: CasServices): void {}
