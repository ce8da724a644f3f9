import type { FastifyInstance } from 'fastify';
import type { CasServices } from '../index.js';

/** TODO(#5): routes of the runtime-stack resource. */
export function runtimeStackRoutes(_app: FastifyInstance, _services: CasServices): void {}
