import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parse as parseYaml } from 'yaml';
import { OpenStageError } from '../core/errors.js';
import { MAX_YAML_DEPTH, parseJsonBounded, yamlNestsDeeperThan } from '../core/nesting.js';
import { huaweiErrorBody, unstorableText } from '../core/wire/huawei.js';
import { serviceCombErrorBody } from '../core/wire/servicecomb.js';
import { kieError } from './errors.js';
import { fileRoutes } from './routes/file.js';
import { healthRoutes } from './routes/health.js';
import { historyRoutes } from './routes/history.js';
import { kvRoutes } from './routes/kv.js';
import type { IamHooks } from '../iam/types.js';
import type { Authorize, Verb } from '../rbac/types.js';
import type { KieService } from './service.js';

/** What the config center plugin needs from the composition root. */
export interface KiePluginOptions {
  kie: KieService;
  /** Largest request body, bytes (config kie.maxBodyBytes). */
  maxBodyBytes: number;
  /** Version string reported by /v1/health. */
  version: string;
  /**
   * Engine RBAC check (present when rbac.enabled): kv and revision routes need a token whose
   * roles grant resource `config` with the verb of the HTTP method (servicecomb.md §2).
   */
  authorize?: Authorize;
  /**
   * IAM check of the CSE import/export routes (`/file`, `/download`, servicecomb.md §4.1):
   * an X-Auth-Token or an AK/SK signature for the project in the path.
   */
  iamCheck?: IamHooks<FastifyRequest>;
  /**
   * Who may import and export (config kie.transferAuth): `iam` = iamCheck; `engine` = the
   * kv API's guard (`authorize` when RBAC is on) — exclusive engine processes.
   */
  transferAuth?: 'iam' | 'engine';
  /**
   * The config center of the engine an import or export names in `X-Engine-ID`
   * (servicecomb.md §4.1): undefined for this server's own (the built-in engine), else the
   * engine process's address and token; throws for an unknown or stopped engine.
   */
  engineConfigCenter?: (project: string, engineId: string) => Promise<{ base: string; token?: string } | undefined>;
}

/**
 * The Kie project CSE imports and exports act in: `default`, the one Java Chassis and
 * go-chassis read (`/v1/default/kie`), whatever project the IAM-checked path names.
 */
export const ENGINE_KIE_PROJECT = 'default';

const VERBS: Record<string, Verb> = { GET: 'get', POST: 'create', PUT: 'update', DELETE: 'delete' };

/**
 * The domain a config center request acts in (servicecomb.md §3.1): the token's `domain`
 * claim when RBAC is on and the token carries one, else `default`. Kie never reads
 * `X-Domain-Name`. Import/export (IAM-checked) act in the same domain as the kv API so
 * that an export re-imports where the kvs live.
 */
export function kieDomainOf(request: FastifyRequest): string {
  return request.rbac?.domain || 'default';
}

/** The project of a request: the path parameter (clients use `default`). */
export function kieProjectOf(request: FastifyRequest): string {
  return (request.params as { project?: string }).project || 'default';
}

/**
 * Sends a Kie error: the ServiceComb body pretty-printed with a 1-space indent, as Kie's
 * WriteErrResponse does, status = code / 1000.
 */
export function sendKieError(reply: FastifyReply, err: OpenStageError): FastifyReply {
  return reply.code(err.status).type('application/json; charset=UTF-8').send(JSON.stringify(serviceCombErrorBody(err), null, 1));
}

/**
 * Sends an error of the CSE import/export API: Kie's body plus Huawei's `error_code` and
 * `error_msg`, which the Go and Java SDKs' error handlers read (they ignore `errorCode`).
 */
export function sendCseKieError(reply: FastifyReply, err: OpenStageError): FastifyReply {
  const { error_code, error_msg } = huaweiErrorBody(err);
  return reply.code(err.status).type('application/json; charset=UTF-8').send(JSON.stringify({ ...serviceCombErrorBody(err), error_code, error_msg }, null, 1));
}

/** Renders any error of the kie scope as a Kie error (schema, body and framework errors as 400001). */
function kieErrorOf(err: FastifyError | OpenStageError, request: FastifyRequest): OpenStageError {
  if (err instanceof OpenStageError) return err;
  if ((err as FastifyError).validation) return kieError('InvalidParams', err.message);
  if ((err as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE') return kieError('InvalidParams', 'request body too large');
  if ((err as FastifyError).statusCode && (err as FastifyError).statusCode! < 500) return kieError('InvalidParams', err.message);
  request.log.error({ err, reqId: request.id, method: request.method, url: request.url }, 'unexpected error');
  return kieError('Internal');
}

/**
 * Largest YAML body of the kv routes, bytes: a kv holds at most 128 Ki characters, and the
 * `yaml` package takes about a second per megabyte, which no caller without credentials
 * (RBAC off) may cost every other client.
 */
const MAX_KV_YAML_BYTES = 256 * 1024;

/**
 * Parses a request body: YAML when the content type says so, JSON otherwise; empty =
 * undefined. Nesting is bounded before either parser runs (src/core/nesting.ts).
 * @throws NestingError too deep; an Error from the parser when malformed
 */
function parseBody(text: string, contentType: string | undefined): unknown {
  if (text.trim() === '') return undefined;
  if (contentType && /yaml/i.test(contentType)) {
    if (yamlNestsDeeperThan(text)) throw new Error(`the body nests deeper than ${MAX_YAML_DEPTH} levels`);
    return parseYaml(text);
  }
  return parseJsonBounded(text);
}

/**
 * The Huawei SDK uploads an import as multipart/form-data with the file in `upload_file`
 * (servicecomb.md §4.1). Parsed with the platform's own multipart reader (undici, behind
 * `Response.formData()`); the file holds `{"data":[…]}` in JSON or YAML.
 */
async function parseMultipart(body: Buffer, contentType: string): Promise<unknown> {
  const form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
  const file = form.get('upload_file');
  if (file === null) throw kieError('InvalidParams', 'multipart body needs the upload_file field');
  const text = typeof file === 'string' ? file : await file.text();
  const name = typeof file === 'string' ? '' : file.name;
  const fileType = typeof file === 'string' ? '' : file.type;
  const parsed = parseBody(text, /\.ya?ml$/i.test(name) || /yaml/i.test(fileType) ? 'yaml' : text.trimStart().startsWith('{') || text.trimStart().startsWith('[') ? 'json' : 'yaml');
  return Array.isArray(parsed) ? { data: parsed } : parsed;
}

/**
 * The config center area (servicecomb.md §3, §4.1): `/v1/{project}/kie/...` and
 * `/v1/health`. Bodies are JSON, YAML (`Content-Type: text/yaml`) or, for imports,
 * multipart; answers are YAML when `Accept: text/yaml`. Every error uses Kie's body.
 */
export async function kiePlugin(app: FastifyInstance, opts: KiePluginOptions): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes }, (req, body, done) => {
    req.rawBody = body as Buffer;
    parseMultipart(body as Buffer, req.headers['content-type'] ?? '').then(
      (parsed) => done(null, parsed),
      (err: unknown) => done(err instanceof OpenStageError ? err : kieError('InvalidParams', `bad multipart body: ${(err as Error).message}`), undefined),
    );
  });
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes }, (req, body, done) => {
    // The raw bytes are kept for AK/SK signatures (src/core/raw-body.ts).
    req.rawBody = body as Buffer;
    if ((body as Buffer).length > MAX_KV_YAML_BYTES && /yaml/i.test(req.headers['content-type'] ?? '') && !/\/(file|download)$/.test(req.routeOptions.url ?? '')) {
      return done(kieError('InvalidParams', `a YAML body of a kv route is limited to ${MAX_KV_YAML_BYTES} bytes`), undefined);
    }
    try {
      done(null, parseBody((body as Buffer).toString('utf8'), req.headers['content-type']));
    } catch (err) {
      done(kieError('InvalidParams', `can not decode body: ${(err as Error).message}`), undefined);
    }
  });

  app.setErrorHandler((err: FastifyError | OpenStageError, request, reply) => sendKieError(reply, kieErrorOf(err, request)));

  // Text no database stores as given (a NUL; a lone surrogate, which SQLite turns into U+FFFD)
  // is refused as the other areas refuse it (issue #15 M2).
  app.addHook('preHandler', (request, _reply, done) => {
    const bad = unstorableText(request.params, 'params') ?? unstorableText(request.query, 'querystring') ?? unstorableText(request.body, 'body');
    done(bad ? kieError('InvalidParams', bad) : undefined);
  });

  // Held polls are answered (304) before the HTTP server waits for in-flight requests.
  app.addHook('preClose', (done) => {
    opts.kie.releasePolls();
    done();
  });

  await app.register(
    async (scoped) => {
      await scoped.register(async (kv) => {
        const { authorize } = opts;
        if (authorize) kv.addHook('onRequest', async (request) => authorize(request, { resource: 'config', verb: VERBS[request.method] ?? 'get' }));
        kvRoutes(kv, opts);
        historyRoutes(kv, opts);
      });
      await scoped.register(async (file) => {
        const { iamCheck, authorize } = opts;
        if (opts.transferAuth === 'engine') {
          if (authorize) file.addHook('onRequest', async (request) => authorize(request, { resource: 'config', verb: request.url.includes('/kie/file') ? 'create' : 'get' }));
        } else if (iamCheck) {
          file.addHook('onRequest', iamCheck.onRequest);
          file.addHook('preValidation', iamCheck.preValidation);
        }
        file.setErrorHandler((err: FastifyError | OpenStageError, request, reply) => sendCseKieError(reply, kieErrorOf(err, request)));
        fileRoutes(file, opts);
      });
      // Unknown paths under /kie answer Kie's 404 (servicecomb.md §3.1), not the text of the root.
      scoped.setNotFoundHandler((request, reply) => sendKieError(reply, kieError('RecordNotExists', `no route ${request.method} ${request.url.split('?')[0]}`)));
    },
    { prefix: '/v1/:project/kie' },
  );
  healthRoutes(app, opts);
}
