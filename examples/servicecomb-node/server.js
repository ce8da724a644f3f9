// node-caller: a plain Node.js service (no dependencies) that speaks the ServiceComb service
// center v4 REST API by hand. It registers itself, heartbeats, discovers the instances of the
// Java Chassis `provider` of its application and calls their GET /hello round robin.
// See README.md for the endpoints and the environment it reads.
import http from 'node:http';
import os from 'node:os';

/** Configuration, from the variables OpenStage gives every component (defaults for running by hand). */
const config = {
  port: Number(process.env.PORT || 8080),
  registry: (process.env.PAAS_CSE_SC_ENDPOINT || 'http://127.0.0.1:30100').split(',')[0].trim().replace(/\/+$/, ''),
  appId: process.env.CAS_APPLICATION_NAME || 'default',
  serviceName: process.env.SERVICE_NAME || 'node-caller',
  version: process.env.CAS_INSTANCE_VERSION || '1.0.0',
  hostName: process.env.CAS_INSTANCE_NAME || os.hostname(),
  provider: process.env.PROVIDER_NAME || 'provider',
  /** Seconds between two discovery refreshes. */
  refreshSeconds: Number(process.env.REFRESH_SECONDS || 5),
  /** Heartbeat interval (seconds) and missed heartbeats the registry tolerates (lease = interval × (times + 1)). */
  healthCheck: { mode: 'push', interval: 30, times: 3 },
};
const base = `${config.registry}/v4/default/registry`;

/** What this process registered: `{serviceId, instanceId}` once done. */
const self = { serviceId: '', instanceId: '' };

/**
 * Discovery cache: the provider's usable instances and the revision the registry sent with
 * them (`X-Resource-Revision`), sent back as `rev=` so an unchanged set costs a 304.
 * @type {{revision: string, instances: {instanceId: string, version: string, url: string}[], next: number}}
 */
const cache = { revision: '', instances: [], next: 0 };

/**
 * One call of the service center. Resolves to `{status, headers, body}` (body parsed from
 * JSON when there is one); rejects only on network errors and on statuses other than 200 and
 * 304, with `err.status` and `err.errorCode` (the registry's error body, servicecomb.md §0).
 * @param {string} method
 * @param {string} path under /v4/default/registry
 * @param {{body?: object, headers?: Record<string, string>}} [options]
 */
async function sc(method, path, options = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', 'x-domain-name': 'default', ...options.headers },
    body: options.body && JSON.stringify(options.body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  const body = text ? JSON.parse(text) : {};
  if (res.status !== 200 && res.status !== 304) {
    const err = new Error(`${method} ${path} → ${res.status} ${text}`);
    Object.assign(err, { status: res.status, errorCode: body.errorCode });
    throw err;
  }
  return { status: res.status, headers: res.headers, body };
}

/**
 * Registers the microservice (reusing its serviceId when the same appId/name/version exists)
 * and one instance with endpoint rest://127.0.0.1:PORT (servicecomb.md §1.2 S7, S1, S14).
 */
async function register() {
  const q = new URLSearchParams({ type: 'microservice', appId: config.appId, serviceName: config.serviceName, version: config.version });
  try {
    self.serviceId = (await sc('GET', `/existence?${q}`)).body.serviceId;
  } catch (err) {
    if (!err.errorCode) throw err; // 400012 / 400026: not registered yet
    const service = { appId: config.appId, serviceName: config.serviceName, version: config.version, environment: '' };
    self.serviceId = (await sc('POST', '/microservices', { body: { service } })).body.serviceId;
  }
  const instance = { hostName: config.hostName, endpoints: [`rest://127.0.0.1:${config.port}`], status: 'UP', healthCheck: config.healthCheck };
  self.instanceId = (await sc('POST', `/microservices/${self.serviceId}/instances`, { body: { instance } })).body.instanceId;
  console.log(`registered ${config.appId}/${config.serviceName} ${config.version}: service ${self.serviceId}, instance ${self.instanceId}`);
}

/** Renews the lease; a 400017 (the registry forgot the instance) registers again, as Java Chassis does. */
async function heartbeat() {
  try {
    await sc('PUT', `/microservices/${self.serviceId}/instances/${self.instanceId}/heartbeat`);
  } catch (err) {
    console.error(`heartbeat: ${err.message}`);
    if (err.errorCode === '400017' || err.errorCode === '400012') await register();
  }
}

/**
 * Refreshes the provider's instances (S22, §1.3). 304 keeps the cache; 400012 (no such
 * provider yet) empties it. The registry does not filter by status, so only UP instances with
 * a rest:// endpoint are kept; `?sslEnabled=…` and other parameters are stripped.
 */
async function refresh() {
  // Version rule "0.0.0.0+" = every version (what Java Chassis sends). Not "latest": a registry
  // applying the legacy rules answers "latest" with the highest *registered* version only, so
  // after a rollback (1.1.0 registered but without instances) no instance would be found.
  const q = new URLSearchParams({ appId: config.appId, serviceName: config.provider, version: '0.0.0.0+' });
  if (cache.revision) q.set('rev', cache.revision);
  let res;
  try {
    res = await sc('GET', `/instances?${q}`, { headers: { 'X-ConsumerId': self.serviceId } });
  } catch (err) {
    if (err.errorCode !== '400012') throw err;
    Object.assign(cache, { revision: '', instances: [] });
    return;
  }
  if (res.status === 304) return;
  const instances = [];
  for (const i of res.body.instances ?? []) {
    const endpoint = (i.endpoints ?? []).find((e) => e.startsWith('rest://'));
    if (!endpoint || (i.status && i.status !== 'UP')) continue;
    const [hostPort, params = ''] = endpoint.slice('rest://'.length).split('?');
    const scheme = new URLSearchParams(params).get('sslEnabled') === 'true' ? 'https' : 'http';
    instances.push({ instanceId: i.instanceId, version: i.version, url: `${scheme}://${hostPort}` });
  }
  cache.revision = res.headers.get('x-resource-revision') ?? '';
  cache.instances = instances;
}

/**
 * Calls the provider's GET /hello on the next instance (round robin); on a network error or
 * a non-2xx answer it tries the next one, each instance at most once.
 * @param {string} name
 * @returns {Promise<object>} the provider's JSON answer
 */
async function callProvider(name) {
  const list = cache.instances;
  if (list.length === 0) throw new Error(`no instance of ${config.appId}/${config.provider} in the registry`);
  let last;
  for (let tries = 0; tries < list.length; tries++) {
    const target = list[cache.next++ % list.length];
    try {
      const res = await fetch(`${target.url}/hello?name=${encodeURIComponent(name)}`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`${target.url}/hello → ${res.status} ${await res.text()}`);
      return await res.json();
    } catch (err) {
      last = err.cause ? new Error(`${target.url}/hello: ${err.cause.code ?? err.cause.message}`) : err;
    }
  }
  throw last;
}

/** Writes a JSON answer. */
function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET') return send(res, 405, { error: 'only GET' });
  if (url.pathname === '/health') return send(res, 200, true);
  if (url.pathname === '/providers') {
    return send(res, 200, { provider: config.provider, revision: cache.revision, instances: cache.instances });
  }
  if (url.pathname === '/call') {
    callProvider(url.searchParams.get('name') ?? 'world').then(
      (provider) => send(res, 200, { caller: config.serviceName, callerVersion: config.version, callerPort: config.port, provider }),
      (err) => send(res, 502, { caller: config.serviceName, error: err.message }),
    );
    return;
  }
  send(res, 404, { error: `no route ${url.pathname}; try /call?name=x, /providers or /health` });
});

/** Runs `fn` every `seconds`, logging failures (never two runs at once). */
function every(seconds, what, fn) {
  let busy = false;
  return setInterval(() => {
    if (busy) return;
    busy = true;
    fn().catch((err) => console.error(`${what}: ${err.message}`)).finally(() => (busy = false));
  }, seconds * 1000);
}

const timers = [];

/** Registers (retrying every 5 s while the registry is unreachable), then heartbeats and refreshes. */
async function start() {
  for (;;) {
    try {
      await register();
      break;
    } catch (err) {
      console.error(`register: ${err.message}; retrying in 5 s`);
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
  await refresh().catch((err) => console.error(`discovery: ${err.message}`));
  timers.push(every(config.healthCheck.interval, 'heartbeat', heartbeat));
  timers.push(every(config.refreshSeconds, 'discovery', refresh));
}

let stopping = false;
/** Unregisters the instance, then exits (SIGTERM from OpenStage's stop, or Ctrl-C). */
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  timers.forEach(clearInterval);
  server.close();
  if (self.instanceId) {
    await sc('DELETE', `/microservices/${self.serviceId}/instances/${self.instanceId}`).then(
      () => console.log(`${signal}: unregistered instance ${self.instanceId}`),
      (err) => console.error(`unregister: ${err.message}`),
    );
  }
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

server.listen(config.port, '127.0.0.1', () => {
  console.log(`${config.serviceName} ${config.version} listening on 127.0.0.1:${config.port}, registry ${config.registry}`);
  void start();
});
