import type { FastifyInstance, FastifyRequest } from 'fastify';
import { huaweiScope } from '../core/wire/huawei.js';
import { addonRoutes } from './addon/routes.js';
import type { AddonService } from './addon/service.js';
import { applicationRoutes } from './application/routes.js';
import type { ApplicationService } from './application/service.js';
import { componentRoutes } from './component/routes.js';
import type { ComponentService } from './component/service.js';
import { configRoutes } from './config/routes.js';
import type { ConfigService } from './config/service.js';
import { environmentRoutes } from './environment/routes.js';
import type { EnvironmentService } from './environment/service.js';
import { casError } from './errors.js';
import { runtimeStackRoutes } from './runtime-stack/routes.js';
import type { RuntimeStackService } from './runtime-stack/service.js';
import { v2ComponentRoutes } from './v2/component-routes.js';
import { v2Routes } from './v2/routes.js';
import type { CasV2Service } from './v2/service.js';

/** The ServiceStage services, built in server.ts. */
export interface CasServices {
  environments: EnvironmentService;
  applications: ApplicationService;
  runtimeStacks: RuntimeStackService;
  configs: ConfigService;
  addons: AddonService;
  components: ComponentService;
  /** The v2 API, a view over the services above. */
  v2: CasV2Service;
}

/** What the ServiceStage plugin needs from the composition root. */
export interface CasPluginOptions {
  services: CasServices;
  /** Largest request body, bytes (cas.maxBodyBytes). */
  maxBodyBytes: number;
  /** The IAM check (X-Auth-Token or AK/SK signature for the project in the path). */
  iamCheck: (request: FastifyRequest) => Promise<void>;
}

/** A multipart upload as the routes see it: every field, files as name + bytes. */
export interface MultipartBody {
  fields: Record<string, string>;
  files: Record<string, { filename: string; bytes: Buffer }>;
}

/**
 * Reads a multipart/form-data body with the platform's own reader (undici, behind
 * `Response.formData()`).
 */
async function parseMultipart(body: Buffer, contentType: string): Promise<MultipartBody> {
  const form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
  const parsed: MultipartBody = { fields: {}, files: {} };
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') parsed.fields[name] = value;
    else parsed.files[name] = { filename: value.name, bytes: Buffer.from(await value.arrayBuffer()) };
  }
  return parsed;
}

/**
 * ServiceStage application management (servicestage.md §1–§3, §6–§8): every route under
 * `/v3/{project}/cas` and the v2 API under `/v2/{project}/cas` (src/cas/v2), IAM-checked, errors as `{error_code, error_msg}` with the SVCSTG
 * codes, unknown paths 404 SVCSTG.00100408. Double slashes in paths (`cas//configs`) are
 * folded by the router (server.ts); a JSON body on DELETE is read and ignored.
 */
export async function casPlugin(app: FastifyInstance, opts: CasPluginOptions): Promise<void> {
  await app.register(
    async (scoped) => {
      huaweiScope(scoped, {
        bodyLimit: opts.maxBodyBytes,
        invalid: (detail) => casError('InvalidParameter', detail),
        internal: () => casError('Internal'),
        notFound: (detail) => casError('RequestNotFound', detail),
      });
      scoped.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes }, (request, body, done) => {
        request.rawBody = body as Buffer;
        parseMultipart(body as Buffer, request.headers['content-type'] ?? '').then(
          (parsed) => done(null, parsed),
          (err: unknown) => done(casError('InvalidParameter', `bad multipart body: ${(err as Error).message}`), undefined),
        );
      });
      scoped.addHook('preValidation', opts.iamCheck);
      environmentRoutes(scoped, opts.services);
      applicationRoutes(scoped, opts.services);
      runtimeStackRoutes(scoped, opts.services);
      configRoutes(scoped, opts.services);
      addonRoutes(scoped, opts.services);
      componentRoutes(scoped, opts.services);
    },
    { prefix: '/v3/:project/cas' },
  );
  // The v2 API (src/cas/v2): the same resources in v2's wire format, with v2's not-found codes.
  await app.register(
    async (scoped) => {
      huaweiScope(scoped, {
        bodyLimit: opts.maxBodyBytes,
        invalid: (detail) => casError('InvalidParameter', detail),
        internal: () => casError('Internal'),
        notFound: (detail) => casError('RequestNotFound', detail),
      });
      scoped.addHook('preValidation', opts.iamCheck);
      v2Routes(scoped, opts.services.v2);
      v2ComponentRoutes(scoped, opts.services.v2);
    },
    { prefix: '/v2/:project/cas' },
  );
}
