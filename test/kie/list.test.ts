import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertError } from '../helpers/assert.js';
import { KieClient, revisionOf, type Kv } from '../helpers/kie-client.js';
import { startServer } from '../helpers/server.js';

const keys = (kvs: Kv[]): string[] => kvs.map((k) => k.key);

describe('GET /v1/{project}/kie/kv (filters)', () => {
  it('filters by label: contains by default, set equality with match=exact, all kvs without labels', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    await c.create({ key: 'both', value: 'v', labels: { app: 'shop', service: 'orders' } });
    await c.create({ key: 'app', value: 'v', labels: { app: 'shop' } });
    await c.create({ key: 'other', value: 'v', labels: { app: 'bank' } });
    await c.create({ key: 'none', value: 'v' });
    assert.deepEqual(keys((await c.list({ label: 'app:shop' })).body.data).sort(), ['app', 'both']);
    assert.deepEqual(keys((await c.list({ label: ['app:shop', 'service:orders'] })).body.data), ['both']);
    assert.deepEqual(keys((await c.list({ label: 'app:shop', match: 'exact' })).body.data), ['app']);
    assert.deepEqual(keys((await c.list({ match: 'exact' })).body.data), ['none'], 'exact with no labels = kvs without labels');
    assert.equal((await c.list()).body.total, 4);
    assert.deepEqual((await c.list({ label: 'app:nothing' })).body, { total: 0, data: [] });
  });

  it('filters by key: exact, beginWith() and wildcard(), all case-insensitive', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    for (const key of ['servicecomb.timeout', 'servicecomb.retry', 'Spring.Timeout', 'TIMEOUT']) await c.create({ key, value: 'v' });
    const sorted = async (key: string): Promise<string[]> => keys((await c.list({ key })).body.data).sort();
    assert.deepEqual(await sorted('timeout'), ['TIMEOUT']);
    assert.deepEqual(await sorted('beginWith(ServiceComb.)'), ['servicecomb.retry', 'servicecomb.timeout']);
    assert.deepEqual(await sorted('wildcard(*.timeout)'), ['Spring.Timeout', 'servicecomb.timeout']);
    assert.deepEqual(await sorted('wildcard(s*e*y)'), ['servicecomb.retry']);
  });

  it('filters by status exactly and by value as a case-sensitive substring', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    await c.create({ key: 'a', value: 'Hello world', status: 'enabled' });
    await c.create({ key: 'b', value: 'hello there' });
    assert.deepEqual(keys((await c.list({ status: 'enabled' })).body.data), ['a']);
    assert.deepEqual(keys((await c.list({ status: 'disabled' })).body.data), ['b']);
    assert.deepEqual(keys((await c.list({ value: 'Hello' })).body.data), ['a']);
    assert.deepEqual(keys((await c.list({ value: 'llo' })).body.data).sort(), ['a', 'b']);
  });

  it('sorts by priority then update_revision, both descending, and pages after counting', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const a = await c.create({ key: 'a', value: 'v' });
    await c.create({ key: 'b', value: 'v' });
    await c.create({ key: 'c', value: 'v', priority: 5 });
    await c.create({ key: 'd', value: 'v' });
    await c.update(a.id, { value: 'newer' });
    const all = await c.list();
    assert.deepEqual(keys(all.body.data), ['c', 'a', 'd', 'b']);
    const page = await c.list({ offset: '1', limit: '2' });
    assert.equal(page.body.total, 4, 'total counts every match before paging');
    assert.deepEqual(keys(page.body.data), ['a', 'd']);
    const past = await c.list({ offset: '10', limit: '2' });
    assert.deepEqual(past.body, { total: 4, data: [] });
  });

  it('answers {"total":0,"data":[]} with the revision header for an empty project', async (t) => {
    const srv = await startServer(t);
    const r = await new KieClient(srv.url).list();
    assert.equal(r.status, 200);
    assert.equal(r.text, '{"total":0,"data":[]}');
    assert.equal(r.headers.get('x-kie-revision'), '0');
  });

  const invalid: [string, Record<string, string | string[]>][] = [
    ['a label has no colon', { label: 'app' }],
    ['a label has two colons', { label: 'a:b:c' }],
    ['limit is 0', { limit: '0' }],
    ['limit is 101', { limit: '101' }],
    ['offset is negative', { offset: '-1' }],
    ['offset is not a number', { offset: 'x' }],
    ['status is unknown', { status: 'on' }],
    ['the key query has bad characters', { key: 'a b' }],
    ['the key query is longer than 128', { key: 'k'.repeat(129) }],
    ['revision is not an integer', { revision: 'abc' }],
    ['wait is not a duration', { wait: 'soon' }],
    ['wait is longer than 5m', { wait: '5m1s' }],
    ['key is combined with wait', { key: 'k', wait: '1s' }],
  ];
  for (const [name, query] of invalid) {
    it(`returns 400 with errorCode 400001 when ${name}`, async (t) => {
      const srv = await startServer(t);
      const c = new KieClient(srv.url);
      await c.create({ key: 'k', value: 'v' });
      const r = await c.list(query);
      assertError(r, 400, '400001');
    });
  }

  it('caches a list per revision: a change shows at once', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const kv = await c.create({ key: 'k', value: 'v1', labels: { app: 'x' } });
    assert.equal((await c.list({ label: 'app:x' })).body.data[0]!.value, 'v1');
    await c.update(kv.id, { value: 'v2' });
    const r = await c.list({ label: 'app:x' });
    assert.equal(r.body.data[0]!.value, 'v2');
    assert.equal(revisionOf(r), 2);
  });
});

describe('GET /v1/{project}/kie/kv revision range', () => {
  it('returns 400001 for a revision beyond int64 and for a malformed URL, in Kie\'s body', async (t) => {
    const srv = await startServer(t);
    const big = await fetch(`${srv.url}/v1/default/kie/kv?revision=99999999999999999999`);
    assert.equal(big.status, 400);
    const bigBody = await big.text();
    assert.equal(JSON.parse(bigBody).errorCode, '400001');
    const bad = await fetch(`${srv.url}/v1/default/kie/kv/%zz`);
    assert.equal(bad.status, 400);
    const text = await bad.text();
    assert.match(text, /^\{\n "errorCode": "400001"/, 'pretty-printed with a 1-space indent');
  });
});
