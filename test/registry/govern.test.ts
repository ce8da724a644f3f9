// The governance API go-chassis sc-client uses (GetAllApplications, GetAllResources; issue #18 item 12).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertError } from '../helpers/assert.js';
import { call, RegistryClient, uniq } from '../helpers/registry-client.js';
import { startServer } from '../helpers/server.js';

describe('GET /v4/{project}/govern/apps', () => {
  it('lists the appIds of the project\'s services, sorted, without the shared SERVICECENTER unless withShared', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    assert.deepEqual((await call(srv.url, 'GET', '/v4/default/govern/apps')).body, {});
    await c.createService({ appId: 'shop', serviceName: uniq() });
    await c.createService({ appId: 'bank', serviceName: uniq() });
    await c.createService({ appId: 'shop', serviceName: uniq(), environment: 'production' });
    assert.deepEqual((await call(srv.url, 'GET', '/v4/default/govern/apps')).body, { appIds: ['bank', 'shop'] });
    assert.deepEqual((await call(srv.url, 'GET', '/v4/default/govern/apps?environment=production')).body, { appIds: ['shop'] });
    assert.ok((await call(srv.url, 'GET', '/v4/default/govern/apps?withShared=true')).body.appIds.includes('default'));
  });
});

describe('GET /v4/{project}/govern/microservices', () => {
  it('answers allServicesDetail with the parts options names (all: instances, tags, providers and consumers)', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const name = uniq();
    const sid = await c.createService({ appId: 'gov', serviceName: name, version: '1.0.0' });
    const iid = await c.register(sid, { endpoints: ['rest://127.0.0.1:9001'] });
    await c.req('POST', `/microservices/${sid}/tags`, { tags: { team: 'a' } });
    const all = await call(srv.url, 'GET', `/v4/default/govern/microservices?options=all&appId=gov`);
    assert.equal(all.status, 200, all.text);
    assert.equal(all.body.allServicesDetail.length, 1);
    const d = all.body.allServicesDetail[0];
    assert.equal(d.microService.serviceId, sid);
    assert.deepEqual(d.instances.map((i: any) => i.instanceId), [iid]);
    assert.deepEqual(d.tags, { team: 'a' });
    const bare = await call(srv.url, 'GET', `/v4/default/govern/microservices?serviceName=${name}`);
    assert.deepEqual(Object.keys(bare.body.allServicesDetail[0]), ['microService']);
    const one = await call(srv.url, 'GET', `/v4/default/govern/microservices/${sid}`);
    assert.equal(one.body.service.microService.serviceName, name);
    assertError(await call(srv.url, 'GET', '/v4/default/govern/microservices/nosuch'), 400, '400012');
  });
});
