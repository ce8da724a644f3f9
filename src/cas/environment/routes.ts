import type { FastifyInstance } from 'fastify';
import type { CasServices } from '../index.js';

/** TODO(#5): routes of the environment resource. */
export function environmentRoutes(_app: FastifyInstance, _services: CasServices): void {}
