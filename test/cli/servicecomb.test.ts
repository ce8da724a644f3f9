import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpenstageCli, waitFor } from '../helpers/openstage-cli.js';
import { call } from '../helpers/registry-client.js';
import { startServer } from '../helpers/server.js';

// One database: npm test runs this file on SQLite only (scripts/run-tests.mjs). It tests
// the command-line client; the server side of every call runs on both databases in its
// own suites (test/registry, test/kie, test/engines).
describe('openstage registry, kv and engine commands', () => {
  it('lists registered services and their instances', async (t) => {
    const srv = await startServer(t, { auth: 'none' }, { realClock: true });
    const cli = new OpenstageCli(t, { OPENSTAGE_URL: srv.url });
    const svc = await call(srv.url, 'POST', '/v4/default/registry/microservices', { body: { service: { appId: 'shop', serviceName: 'orders', version: '1.2.0' } } });
    assert.equal(svc.status, 200, svc.text);
    const inst = await call(srv.url, 'POST', `/v4/default/registry/microservices/${svc.body.serviceId}/instances`, { body: { instance: { hostName: 'h1', endpoints: ['rest://10.0.0.1:8080'] } } });
    assert.equal(inst.status, 200, inst.text);
    const services = await cli.json(['registry', 'services']);
    assert.ok(services.some((s: any) => s.serviceName === 'orders' && s.appId === 'shop' && s.version === '1.2.0'));
    const instances = await cli.json(['registry', 'instances', 'orders']);
    assert.deepEqual(instances.map((i: any) => [i.instanceId, i.endpoints]), [[inst.body.instanceId, ['rest://10.0.0.1:8080']]]);
    const table = await cli.run(['registry', 'instances', 'orders']);
    assert.match(table.out, /^SERVICE\s+VERSION\s+INSTANCE/);
    assert.match(table.out, /shop\/orders\s+1\.2\.0/);
    assert.equal((await cli.run(['registry', 'instances', 'nope'])).code, 4);
  });

  it('puts, gets, lists and watches kvs, and lists engines', async (t) => {
    const srv = await startServer(t, { auth: 'none' }, { realClock: true });
    const cli = new OpenstageCli(t, { OPENSTAGE_URL: srv.url });
    assert.equal((await cli.json(['kv', 'put', 'greeting', 'hello', '-l', 'app=shop'])).key, 'greeting');
    assert.equal((await cli.json(['kv', 'put', 'greeting', 'bonjour', '-l', 'app=shop'])).value, 'bonjour');
    assert.equal((await cli.run(['kv', 'get', 'greeting', '-l', 'app=shop'])).out, 'bonjour\n');
    assert.equal((await cli.run(['kv', 'get', 'greeting', '-l', 'app=other'])).code, 4);
    const listed = await cli.json(['kv', 'list', '-l', 'app=shop']);
    assert.deepEqual(listed.map((k: any) => [k.key, k.value, k.labels]), [['greeting', 'bonjour', { app: 'shop' }]]);

    // watch: the current kvs at once, then each change (JSON lines with -o json).
    const watch = cli.start(t, ['kv', 'watch', '-l', 'app=shop', '--wait', '20', '--count', '1', '-o', 'json']);
    await waitFor('the first answer of the watch', () => watch.output().includes('"revision":2'));
    assert.equal((await cli.run(['kv', 'put', 'greeting', 'hallo', '-l', 'app=shop'])).code, 0);
    assert.equal(await watch.exited, 0);
    const lines = watch.output().trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.revision, l.data[0].value]), [[2, 'bonjour'], [3, 'hallo']]);

    assert.equal((await cli.run(['kv', 'delete', 'greeting', '-l', 'app=shop'])).code, 0);
    assert.deepEqual(await cli.json(['kv', 'list', '-l', 'app=shop']), []);
    assert.deepEqual(await cli.run(['kv', 'list', '-l', 'app=shop']), { code: 0, out: '', err: 'No resources found.\n' }, 'an empty table is said on stderr');

    const engines = await cli.json(['engine', 'list']);
    assert.deepEqual(engines.map((e: any) => [e.id, e.status]), [['default', 'Available']]);
  });
});
