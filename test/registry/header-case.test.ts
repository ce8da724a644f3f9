import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { startServer } from '../helpers/server.js';
import { RegistryClient, uniq } from '../helpers/registry-client.js';
import { KieClient } from '../helpers/kie-client.js';

/**
 * GETs `url` and answers the status and the response header names exactly as sent
 * (`rawHeaders`; fetch and `res.headers` lower-case them).
 */
function rawGet(url: string): Promise<{ status: number; names: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, names: res.rawHeaders.filter((_, i) => i % 2 === 0) }));
    });
    req.on('error', reject);
    req.end();
  });
}

// Java Chassis' http-client-common (kie client, service-center client) finds a response
// header with a case-sensitive equals: "x-kie-revision" reads as null, and the Kie client
// then polls with revision=null (400) forever.
describe('revision headers keep their case (Java Chassis clients)', () => {
  it('GET /v1/{p}/kie/kv sends X-Kie-Revision on 200 and on 304', async (t) => {
    const srv = await startServer(t);
    await new KieClient(srv.url).create({ key: 'k', value: 'v', labels: { app: 'a' } });
    const ok = await rawGet(`${srv.url}/v1/default/kie/kv?label=app:a&revision=-1`);
    assert.equal(ok.status, 200);
    assert.ok(ok.names.includes('X-Kie-Revision'), ok.names.join(','));
    const same = await rawGet(`${srv.url}/v1/default/kie/kv?label=app:a&revision=1`);
    assert.equal(same.status, 304);
    assert.ok(same.names.includes('X-Kie-Revision'), same.names.join(','));
  });

  it('GET /v4/{p}/registry/instances, …/microservices/{id}/instances and …/instances/{iid} send X-Resource-Revision', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const name = uniq();
    const sid = await c.createService({ appId: 'app', serviceName: name, version: '1.0.0' });
    const iid = await c.register(sid);
    const R = `${srv.url}/v4/default/registry`;
    for (const url of [`${R}/instances?appId=app&serviceName=${name}`, `${R}/microservices/${sid}/instances`, `${R}/microservices/${sid}/instances/${iid}`]) {
      const r = await rawGet(url);
      assert.equal(r.status, 200, url);
      assert.ok(r.names.includes('X-Resource-Revision'), `${url}: ${r.names.join(',')}`);
    }
  });
});
