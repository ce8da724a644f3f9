import type { FastifyInstance } from 'fastify';
import type { CasServices } from '../index.js';

/** TODO(#5): routes of the application resource. */
export function applicationRoutes(_app: FastifyInstance, _services: CasServices): void {}
