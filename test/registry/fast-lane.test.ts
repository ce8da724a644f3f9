// The registry's fast lane (src/registry/fast-lane.ts, issue #16): finds and heartbeats
// answered before Fastify must be the answers the Fastify routes give, header for header, and
// everything the lane does not take must reach the routes unchanged.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { eventually } from '../helpers/cluster.js';
import { RegistryClient, uniq } from '../helpers/registry-client.js';
import { startServer } from '../helpers/server.js';

interface Raw {
  status: number;
  /** Header names as sent, with their values; Date left out (it moves). */
  headers: [string, string][];
  body: string;
}

/** One request on a connection of its own; the answer as sent on the wire. */
function raw(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        const pairs: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i]!.toLowerCase() !== 'date') pairs.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
        resolve({ status: res.statusCode ?? 0, headers: pairs, body: text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('registry fast lane', () => {
  it('answers finds and heartbeats exactly as the routes do, and leaves every other case to them', async (t) => {
    const srv = await startServer(t);
    // One server's own address: its lane counts what it answered.
    const base = srv.urls[0]!;
    const lane = srv.servers[0]!.fastLane;
    assert.ok(lane, 'the lane is on (no RBAC, no mutual TLS, no request log)');
    const client = new RegistryClient(base);
    const app = uniq('lane');
    const provider = await client.createService({ appId: app, serviceName: 'provider', version: '1.0.0' });
    const instanceId = await client.register(provider);
    const consumer = await client.createService({ appId: app, serviceName: 'consumer', version: '1.0.0' });
    const find = `/instances?appId=${app}&serviceName=provider&version=0.0.0%2B`;

    // Each pair: through the lane (/v4/...) and through Fastify (//v4/..., which the router
    // folds to the same route and the lane does not take).
    const both = async (method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Raw> => {
      const before = lane.answered;
      const fast = await raw(base, method, `/v4/default/registry${path}`, headers, body);
      const answered = lane.answered - before;
      const routed = await raw(base, method, `//v4/default/registry${path}`, headers, body);
      assert.equal(lane.answered - before, answered, 'the // form is never the lane\'s');
      assert.deepEqual(fast, routed, `${method} ${path}: the lane's answer is the route's`);
      return { ...fast, status: answered === 1 ? fast.status : -fast.status };
    };

    const found = await both('GET', find);
    assert.equal(found.status, 200, 'answered by the lane');
    const rev = found.headers.find(([name]) => name === 'X-Resource-Revision')?.[1];
    assert.ok(rev, 'X-Resource-Revision keeps its case');
    assert.deepEqual(found.headers.map(([name]) => name), ['X-Resource-Revision', 'content-type', 'content-length', 'Connection']);
    assert.equal(JSON.parse(found.body).instances[0].instanceId, instanceId);
    assert.equal((await both('GET', `${find}&rev=${rev}`)).status, 304, 'an unchanged rev: 304 by the lane');
    assert.equal((await both('GET', `${find}&rev=stale`)).status, 200);
    const heartbeat = `/microservices/${provider}/instances/${instanceId}/heartbeat`;
    assert.equal((await both('PUT', heartbeat)).status, 200, 'heartbeat by the lane');
    // A Content-Type Fastify refuses is refused on a bodiless PUT too (415, answered 400 400001):
    // the route's; a plain one stays the lane's.
    assert.equal((await both('PUT', heartbeat, { 'content-type': 'application/json; charset=UTF-8' })).status, 200);
    for (const type of ['json', '', 'a/b/c']) {
      const refused = await both('PUT', heartbeat, { 'content-type': type });
      assert.equal(refused.status, -400, `Content-Type ${JSON.stringify(type)}: the route`);
      assert.match(refused.body, /"errorCode":"400001"/);
    }

    // A consumer's find records the dependency, as the route does (after answering, as the route).
    const before = lane.answered;
    assert.equal((await raw(base, 'GET', `/v4/default/registry${find}`, { 'X-ConsumerId': consumer })).status, 200);
    assert.equal(lane.answered, before + 1);
    const providers = async (): Promise<string[] | undefined> => (await client.req<{ providers?: { serviceId: string }[] }>('GET', `/microservices/${consumer}/providers`)).body.providers?.map((p) => p.serviceId);
    await eventually(async () => (await providers())?.length === 1, 10_000, 'the dependency recorded');
    assert.deepEqual(await providers(), [provider]);

    // Another domain's registry is another tenant: the provider is not there.
    const other = await both('GET', find, { 'X-Domain-Name': uniq('domain') });
    assert.equal(other.status, -400, 'an error is the route\'s to answer');
    assert.match(other.body, /"errorCode":"400012"/);

    // Left to the routes: errors, bodies, repeated or unknown parameters, other path forms.
    assert.equal((await both('GET', `/instances?appId=${app}&serviceName=nothing`)).status, -400);
    assert.equal((await both('GET', `/instances?appId=${app}`)).status, -400, 'serviceName is required');
    assert.equal((await both('GET', `/instances?appId=${app}&serviceName=provider&version=bad..rule`)).status, -400);
    assert.equal((await both('PUT', `/microservices/${provider}/instances/none/heartbeat`)).status, -400);
    assert.equal((await both('PUT', `/microservices/${provider}/instances/${instanceId}/heartbeat`, { 'content-type': 'application/json' }, '{}')).status, -200, 'a body: the route');
    const repeated = await both('GET', `/instances?appId=${app}&serviceName=provider&serviceName=other`);
    assert.equal(repeated.status, -200, 'a repeated parameter: the route (it takes the first)');
    assert.equal(JSON.parse(repeated.body).instances[0].instanceId, instanceId);
    assert.equal((await both('GET', `${find}&extra=1`)).status, -200, 'an unknown parameter: the route');
    assert.equal((await both('GET', `${find.replace('provider', 'pro%76ider')}`)).status, 200, 'escapes in the query are decoded as the route decodes them');
    const legacy = await raw(base, 'GET', `/registry/v3${find}`);
    assert.equal(legacy.status, 200, 'the legacy tree still answers (through its route)');

    // Counted in the same metrics series as the route's answers.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const count = (status: number): number => Number(new RegExp(`openstage_http_request_duration_seconds_count\\{area="registry",route="/v4/:project/registry/instances",method="GET",status="${status}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    assert.ok(count(200) >= 8 && count(304) === 2, `finds counted: 200 × ${count(200)}, 304 × ${count(304)}`);
  });

  it('sends every request to the routes once the server is closing', async (t) => {
    const srv = await startServer(t);
    const lane = srv.servers[0]!.fastLane!;
    const client = new RegistryClient(srv.urls[0]!);
    const serviceId = await client.createService({ appId: uniq('closing'), serviceName: 'svc', version: '1.0.0' });
    const instanceId = await client.register(serviceId);
    lane.close();
    const before = lane.answered;
    assert.equal((await raw(srv.urls[0]!, 'PUT', `/v4/default/registry/microservices/${serviceId}/instances/${instanceId}/heartbeat`)).status, 200);
    assert.equal(lane.answered, before, 'answered by the route');
  });
});
