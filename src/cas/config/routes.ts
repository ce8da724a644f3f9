import type { FastifyInstance } from 'fastify';
import type { CasServices } from '../index.js';

/** TODO(#5): routes of the config resource. */
export function configRoutes(_app: FastifyInstance, _services: CasServices): void {}
