import type { FastifyInstance } from 'fastify';
import type { EnvironmentService } from './service.js';

/** Created (IaC) resources and their provisioning (servicestage.md §2). */
export function iacRoutes(_app: FastifyInstance, _environments: EnvironmentService): void {}
