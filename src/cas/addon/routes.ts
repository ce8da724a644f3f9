import type { FastifyInstance } from 'fastify';
import { ErrorBody } from '../common/schemas.js';
import type { CasServices } from '../index.js';
import { AddonActionBody, AddonList, AddonMetadataList, AddonParams, addonToWire, AddonWire, CreateAddonBody, CreateAddonReply, EnvParams, JobReply, metadataToWire } from './schemas.js';
import type { AddonCreate } from './types.js';

type Env = { project: string; environment_id: string };
type One = Env & { addon_id: string };
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

/** Add-ons of an environment (servicestage.md §8). */
export function addonRoutes(app: FastifyInstance, { addons }: CasServices): void {
  const tags = ['servicestage-addon'];

  app.get(
    '/environments/:environment_id/addons-metadata',
    { schema: { operationId: 'ListAddonsMetadata', summary: 'The add-ons OpenStage ships', tags, params: EnvParams, response: { 200: AddonMetadataList, ...errors } } },
    async (req) => {
      const p = req.params as Env;
      return { addons: (await addons.metadata(p.project, p.environment_id)).map(metadataToWire) };
    },
  );

  app.post(
    '/environments/:environment_id/addons',
    { schema: { operationId: 'CreateAddon', summary: 'Install an add-on in an environment', tags, params: EnvParams, body: CreateAddonBody, response: { 200: CreateAddonReply, ...errors } } },
    async (req) => {
      const p = req.params as Env;
      const addon = await addons.create(p.project, p.environment_id, req.body as AddonCreate);
      return { job_id: addon.jobId, id: addon.id };
    },
  );

  app.get(
    '/environments/:environment_id/addons',
    { schema: { operationId: 'ListAddons', summary: 'The add-ons of an environment', tags, params: EnvParams, response: { 200: AddonList, ...errors } } },
    async (req) => {
      const p = req.params as Env;
      return { addons: (await addons.list(p.project, p.environment_id)).map(addonToWire) };
    },
  );

  app.get(
    '/environments/:environment_id/addons/:addon_id',
    { schema: { operationId: 'ShowAddon', summary: 'Get an add-on', tags, params: AddonParams, response: { 200: AddonWire, ...errors } } },
    async (req) => {
      const p = req.params as One;
      return addonToWire(await addons.get(p.project, p.environment_id, p.addon_id));
    },
  );

  app.post(
    '/environments/:environment_id/addons/:addon_id/action',
    { schema: { operationId: 'DeliverAddonJob', summary: 'Run an action (redeploy) on an add-on', tags, params: AddonParams, body: AddonActionBody, response: { 200: JobReply, ...errors } } },
    async (req) => {
      const p = req.params as One;
      return { job_id: await addons.action(p.project, p.environment_id, p.addon_id, (req.body as { action: string }).action) };
    },
  );

  app.delete(
    '/environments/:environment_id/addons/:addon_id',
    { schema: { operationId: 'DeleteAddon', summary: 'Uninstall an add-on', tags, params: AddonParams, response: { 200: JobReply, ...errors } } },
    async (req) => {
      const p = req.params as One;
      return { job_id: await addons.delete(p.project, p.environment_id, p.addon_id) };
    },
  );
}
