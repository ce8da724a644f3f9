// OpenStage example service. Listens on $PORT; registers itself in the ServiceComb service
// center at $PAAS_CSE_SC_ENDPOINT (when set) and heartbeats until it is stopped.
const http = require('node:http');

const port = Number(process.env.PORT || 8080);
const version = process.env.CAS_INSTANCE_VERSION || '1.0.0';
const name = process.env.CAS_COMPONENT_NAME || 'node-hello';
const app = process.env.CAS_APPLICATION_NAME || 'default';
const instanceName = process.env.CAS_INSTANCE_ID || `${name}-${process.pid}`;
const registry = (process.env.PAAS_CSE_SC_ENDPOINT || '').split(',')[0].trim();
const project = 'default';

const server = http.createServer((req, res) => {
  if (req.url === '/health') return res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ service: name, version, instance: instanceName, app, pid: process.pid }));
});

async function call(method, path, body) {
  const res = await fetch(`${registry}/v4/${project}/registry${path}`, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

async function register() {
  const { serviceId } = await call('POST', '/microservices', { service: { appId: app, serviceName: name, version, environment: '' } });
  const { instanceId } = await call('POST', `/microservices/${serviceId}/instances`, {
    instance: { hostName: instanceName, endpoints: [`rest://127.0.0.1:${port}`], healthCheck: { mode: 'push', interval: 30, times: 3 } },
  });
  console.log(`registered ${name} ${version} as ${serviceId}/${instanceId}`);
  const timer = setInterval(() => call('PUT', `/microservices/${serviceId}/instances/${instanceId}/heartbeat`).catch((e) => console.error(`heartbeat: ${e.message}`)), 10_000);
  process.once('SIGTERM', () => {
    clearInterval(timer);
    call('DELETE', `/microservices/${serviceId}/instances/${instanceId}`).catch(() => undefined).finally(() => process.exit(0));
  });
}

server.listen(port, '127.0.0.1', () => {
  console.log(`${name} ${version} listening on ${port}`);
  if (registry) register().catch((e) => console.error(`register: ${e.message}`));
});
process.on('SIGTERM', () => {
  if (!registry) process.exit(0);
});
