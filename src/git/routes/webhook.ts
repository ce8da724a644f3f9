import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { GitPluginOptions } from '../index.js';
import { ErrorBody, ProjectParams } from '../schemas.js';

/**
 * `POST /v1/{project}/git/webhooks`: OpenStage's own push endpoint for GitHub and GitLab
 * hooks (and the hooks of its hosted repositories). No IAM token: the delivery's signature
 * (X-Hub-Signature-256) or token (X-Gitlab-Token) is the credential.
 */
export function webhookRoutes(app: FastifyInstance, { git }: GitPluginOptions): void {
  app.post(
    '/webhooks',
    {
      config: { public: true },
      schema: {
        operationId: 'ReceiveWebhook',
        summary: 'Receive a GitHub or GitLab push delivery',
        tags: ['git'],
        params: ProjectParams,
        response: { 200: Type.Object({ result: Type.String(), branch: Type.Optional(Type.String()) }), 400: ErrorBody, 401: ErrorBody },
      },
    },
    async (req) => git.receiveWebhook((req.params as { project: string }).project, req.headers, req.rawBody ?? Buffer.alloc(0)),
  );
}
