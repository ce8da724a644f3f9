import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cliFixture, startCli } from '../helpers/cli.js';
import { RegistryClient, uniq, until } from '../helpers/registry-client.js';

describe('SIGKILL under load', () => {
  it('loses nothing that was acknowledged, and heartbeats keep succeeding after the restart', async (t) => {
    const f = await cliFixture(t);
    const { port, dataDir, db } = f;
    let child = await startCli(port, dataDir, db);
    f.children.push(child);
    const c = new RegistryClient(`http://127.0.0.1:${port}`);
    const consumer = await c.createService({ appId: 'crash', serviceName: uniq('consumer') });

    // Acknowledged writes, recorded only after a 200.
    const acked: { sid: string; iid?: string; name: string }[] = [];
    const instances: { sid: string; iid: string }[] = [];
    let stop = false;
    const writer = (async () => {
      while (!stop) {
        const name = uniq('p');
        try {
          const r = await c.req('POST', '/microservices', { service: { appId: 'crash', serviceName: name, version: '1.0.0' } });
          if (r.status !== 200) continue;
          const entry: { sid: string; iid?: string; name: string } = { sid: r.body.serviceId, name };
          acked.push(entry);
          const s = await c.req('PUT', `/microservices/${entry.sid}/schemas/s1`, { schema: `schema of ${name}`, summary: 'abc' });
          if (s.status !== 200) continue;
          const tg = await c.req('POST', `/microservices/${entry.sid}/tags`, { tags: { k: 'v' } });
          if (tg.status !== 200) continue;
          const i = await c.req('POST', `/microservices/${entry.sid}/instances`, { instance: { hostName: 'h', endpoints: ['rest://127.0.0.1:1'] } });
          if (i.status !== 200) continue;
          entry.iid = i.body.instanceId;
          instances.push({ sid: entry.sid, iid: i.body.instanceId });
        } catch {
          // connection refused once the server is killed
        }
      }
    })();
    const heartbeater = (async () => {
      while (!stop) {
        const batch = instances.slice(-50);
        await Promise.all(batch.map((x) => c.req('PUT', `/microservices/${x.sid}/instances/${x.iid}/heartbeat`).catch(() => undefined)));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await until(() => instances.length >= 40, 30_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    stop = true;
    await Promise.all([writer, heartbeater]);

    child = await startCli(port, dataDir, db);
    f.children.push(child);
    for (const a of acked) {
      const got = await c.req('GET', `/microservices/${a.sid}`);
      assert.equal(got.status, 200, `service ${a.name} acknowledged before the crash`);
      assert.equal(got.body.service.serviceName, a.name);
    }
    const full = acked.filter((a) => a.iid);
    assert.ok(full.length >= 40);
    for (const a of full) {
      const schema = await c.req('GET', `/microservices/${a.sid}/schemas/s1`);
      assert.equal(schema.body.schema, `schema of ${a.name}`);
      assert.equal(schema.headers.get('x-schema-summary'), 'abc');
      assert.deepEqual((await c.req('GET', `/microservices/${a.sid}/tags`)).body, { tags: { k: 'v' } });
      const hb = await c.req('PUT', `/microservices/${a.sid}/instances/${a.iid}/heartbeat`);
      assert.equal(hb.status, 200, 'heartbeat of a live instance succeeds after the restart');
    }
    // a dependency recorded before the crash survives
    const target = full[0]!;
    await c.find({ appId: 'crash', serviceName: target.name }, { 'X-ConsumerId': consumer });
    await until(async () => ((await c.req('GET', `/microservices/${consumer}/providers`)).body.providers ?? []).length === 1);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    child = await startCli(port, dataDir, db);
    f.children.push(child);
    const providers = await c.req('GET', `/microservices/${consumer}/providers`);
    assert.deepEqual(providers.body.providers.map((p: any) => p.serviceId), [target.sid]);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });
});

describe('SIGTERM', () => {
  it('stops cleanly with exit code 0 and keeps what was written', async (t) => {
    const f = await cliFixture(t);
    const { port, dataDir, db } = f;
    let child = await startCli(port, dataDir, db);
    f.children.push(child);
    const c = new RegistryClient(`http://127.0.0.1:${port}`);
    const sid = await c.createService({ serviceName: uniq() });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    child = await startCli(port, dataDir, db);
    f.children.push(child);
    assert.equal((await c.req('GET', `/microservices/${sid}`)).status, 200);
  });
});
