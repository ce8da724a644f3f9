import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertError } from '../helpers/assert.js';
import { KieClient, revisionOf } from '../helpers/kie-client.js';
import { startServer } from '../helpers/server.js';

describe('POST /v1/{project}/kie/kv', () => {
  it('creates a kv with the defaults status disabled and value_type text', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const r = await c.req('POST', '/kv', { key: 'timeout', value: '1s', labels: { app: 'shop', service: 'orders' } });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(r.body.id, /^[0-9a-f]{64}$/);
    assert.deepEqual(
      { ...r.body, id: undefined },
      { id: undefined, key: 'timeout', value: '1s', value_type: 'text', status: 'disabled', create_revision: 1, update_revision: 1, labels: { app: 'shop', service: 'orders' }, create_time: Math.floor(srv.clock.now() / 1000), update_time: Math.floor(srv.clock.now() / 1000) },
    );
  });

  it('keeps the given status, value_type, priority and check; omits labels when empty', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const kv = await c.create({ key: 'k', value: 'a: 1', value_type: 'yaml', status: 'enabled', priority: 3, check: 'ok' });
    assert.equal(kv.status, 'enabled');
    assert.equal(kv.value_type, 'yaml');
    assert.equal(kv.priority, 3);
    assert.equal((kv as unknown as { check: string }).check, 'ok');
    assert.equal('labels' in kv, false);
  });

  it('returns 409 with errorCode 409001 for the same key and label set, and accepts another label set or key case', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    await c.create({ key: 'timeout', value: '1', labels: { app: 'a' } });
    const dup = await c.req('POST', '/kv', { key: 'timeout', value: '2', labels: { app: 'a' } });
    assertError(dup, 409, '409001');
    assert.equal(dup.text.split('\n')[1], ' "errorCode": "409001",', 'pretty-printed with a 1-space indent');
    assert.equal((await c.req('POST', '/kv', { key: 'timeout', value: '2', labels: { app: 'b' } })).status, 200);
    assert.equal((await c.req('POST', '/kv', { key: 'TIMEOUT', value: '2', labels: { app: 'a' } })).status, 200, 'uniqueness is case-sensitive');
    assert.equal((await c.req('POST', '/kv', { key: 'timeout', value: '2' })).status, 200, 'no labels is its own set');
  });

  const invalid: [string, unknown][] = [
    ['key is missing', { value: 'v' }],
    ['key has a space', { key: 'a b', value: 'v' }],
    ['key is longer than 2048', { key: 'k'.repeat(2049), value: 'v' }],
    ['value is longer than 131072', { key: 'k', value: 'v'.repeat(131073) }],
    ['value_type is unknown', { key: 'k', value: 'v', value_type: 'toml' }],
    ['status is unknown', { key: 'k', value: 'v', status: 'on' }],
    ['there are 7 labels', { key: 'k', value: 'v', labels: { a: '1', b: '2', c: '3', d: '4', e: '5', f: '6', g: '7' } }],
    ['a label key is bad', { key: 'k', value: 'v', labels: { 'a b': '1' } }],
    ['a label value is bad', { key: 'k', value: 'v', labels: { a: '-x' } }],
    ['the body is not an object', [1, 2]],
    ['the body is not JSON', '{"key":'],
  ];
  for (const [name, body] of invalid) {
    it(`returns 400 with errorCode 400001 when ${name}`, async (t) => {
      const srv = await startServer(t);
      const r = await new KieClient(srv.url).req('POST', '/kv', body);
      assertError(r, 400, '400001');
    });
  }

  it('returns 422 with errorCode 422001 when the domain holds QUOTA_CONFIG kvs', async (t) => {
    const srv = await startServer(t, { 'quota.configs': 2 });
    const a = new KieClient(srv.url);
    const b = new KieClient(srv.url);
    await a.create({ key: 'k1', value: 'v' });
    await b.create({ key: 'k2', value: 'v' });
    assertError(await a.req('POST', '/kv', { key: 'k3', value: 'v' }), 422, '422001');
    const [first] = (await a.list()).body.data;
    assert.equal((await a.req('DELETE', `/kv/${first!.id}`)).status, 204);
    assert.equal((await a.req('POST', '/kv', { key: 'k3', value: 'v' })).status, 200, 'a delete frees quota');
  });

  it('accepts and answers YAML', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const r = await c.req('POST', '/kv', 'key: yamlkey\nvalue: "a: b"\nlabels:\n  app: shop\n', { 'content-type': 'text/yaml', accept: 'text/yaml' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') ?? '', /^text\/yaml/);
    assert.match(r.text, /^key: yamlkey$/m);
    assert.match(r.text, /^value: "a: b"$/m);
    const list = await c.list({ label: 'app:shop' }, { accept: 'text/yaml' });
    assert.match(list.text, /^total: 1$/m);
    assert.match(list.text, /key: yamlkey/);
  });
});

describe('GET /v1/{project}/kie/kv/{kv_id}', () => {
  it('returns the kv, and 404001 for an unknown id or another project', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const kv = await c.create({ key: 'k', value: 'v', labels: { a: 'b' } });
    const r = await c.req('GET', `/kv/${kv.id}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, kv);
    assertError(await c.req('GET', '/kv/nope'), 404, '404001');
    assertError(await new KieClient(srv.url).req('GET', `/kv/${kv.id}`), 404, '404001');
  });
});

describe('PUT /v1/{project}/kie/kv/{kv_id}', () => {
  it('updates value and status, moves the revision once per update and keeps the rest', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const kv = await c.create({ key: 'k', value: 'v1', labels: { a: 'b' } });
    srv.clock.advance(5000);
    const v2 = await c.update(kv.id, { value: 'v2' });
    assert.deepEqual(v2, { ...kv, value: 'v2', update_revision: 2, update_time: kv.update_time + 5 });
    const v3 = await c.update(kv.id, { status: 'enabled' });
    assert.equal(v3.value, 'v2', 'an absent value is unchanged');
    assert.equal(v3.status, 'enabled');
    assert.equal(v3.update_revision, 3);
    const v4 = await c.update(kv.id, { value: '', status: '' });
    assert.equal(v4.value, 'v2', 'an empty value is unchanged');
    assert.equal(v4.status, 'enabled');
    assert.equal(v4.update_revision, 4);
    assert.equal(revisionOf(await c.list()), 4);
  });

  it('returns 404001 for an unknown kv and 400001 for a bad status', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const kv = await c.create({ key: 'k', value: 'v' });
    assertError(await c.req('PUT', '/kv/nope', { value: 'x' }), 404, '404001');
    assertError(await c.req('PUT', `/kv/${kv.id}`, { status: 'maybe' }), 400, '400001');
  });
});

describe('DELETE /v1/{project}/kie/kv/{kv_id}', () => {
  it('answers 204 with no body, removes the kv and moves the revision; 404001 after', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const kv = await c.create({ key: 'k', value: 'v' });
    const r = await c.req('DELETE', `/kv/${kv.id}`);
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    assertError(await c.req('GET', `/kv/${kv.id}`), 404, '404001');
    assert.equal(revisionOf(await c.list()), 2);
    assertError(await c.req('DELETE', `/kv/${kv.id}`), 404, '404001');
  });
});

describe('DELETE /v1/{project}/kie/kv', () => {
  it('deletes the listed kvs with one revision, and answers 204 when nothing matched', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const a = await c.create({ key: 'a', value: 'v' });
    const b = await c.create({ key: 'b', value: 'v' });
    const keep = await c.create({ key: 'c', value: 'v' });
    const r = await c.req('DELETE', '/kv', { ids: [a.id, b.id, 'unknown'] });
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    const list = await c.list();
    assert.deepEqual(list.body.data.map((k) => k.id), [keep.id]);
    assert.equal(revisionOf(list), 4, 'three creates and one batch delete');
    assert.equal((await c.req('DELETE', '/kv', { ids: ['none'] })).status, 204);
    assert.equal(revisionOf(await c.list()), 4, 'a batch delete of nothing does not move the revision');
    assertError(await c.req('DELETE', '/kv', { ids: 'x' }), 400, '400001');
  });
});

describe('text and bodies no database stores as given (issue #15 M2, M1)', () => {
  const refused: [string, Record<string, unknown>][] = [
    ['a NUL in the value', { key: 'k', value: 'a\u0000b' }],
    ['a lone surrogate in the value', { key: 'k', value: 'a\ud800b' }],
    ['a NUL in a label value', { key: 'k', value: 'v', labels: { app: 'x\u0000' } }],
  ];
  for (const [what, body] of refused) {
    it(`refuses ${what} with 400 400001 naming the field, and stores nothing`, async (t) => {
      const srv = await startServer(t);
      const c = new KieClient(srv.url);
      const r = await c.req('POST', '/kv', body);
      assertError(r, 400, '400001');
      assert.match(r.body.detail, /^body\/(value|labels\/app) (must not contain a NUL character|is not valid Unicode)/);
      assert.equal((await c.list({})).body.total, 0);
    });
  }

  it('refuses a lone surrogate in an update, and keeps the stored value', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const kv = await c.create({ key: 'k', value: 'before' });
    assertError(await c.req('PUT', `/kv/${kv.id}`, { value: '\udc00' }), 400, '400001');
    assert.equal((await c.req('GET', `/kv/${kv.id}`)).body.value, 'before');
  });

  it('refuses 10,000 levels of JSON or YAML with 400 400001 and keeps serving', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    assertError(await c.req('POST', '/kv', deep), 400, '400001');
    // The yaml package aborted the process on this one (V8 out of memory in its regexp compiler).
    assertError(await c.req('POST', '/kv', deep, { 'content-type': 'text/yaml' }), 400, '400001');
    assertError(await c.req('POST', '/kv', '- '.repeat(100_000) + 'a', { 'content-type': 'text/yaml' }), 400, '400001');
    const kv = await c.create({ key: 'after', value: 'v' });
    assert.equal((await c.req('GET', `/kv/${kv.id}`)).status, 200);
  });

  it('accepts a YAML body', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    const r = await c.req('POST', '/kv', 'key: yk\nvalue: "a: [1, 2]"\nlabels:\n  app: shop\n', { 'content-type': 'text/yaml' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.value, 'a: [1, 2]');
  });
});

describe('tenancy', () => {
  it('ignores X-Domain-Name: every request without a token acts in the default domain', async (t) => {
    const srv = await startServer(t);
    const project = 'tenancyproj';
    const other = new KieClient(srv.url, project, { 'x-domain-name': 'other' });
    const kv = await other.create({ key: 'k', value: 'v' });
    const plain = new KieClient(srv.url, project);
    assert.deepEqual((await plain.req('GET', `/kv/${kv.id}`)).body, kv);
    assert.equal(revisionOf(await plain.list()), 1);
  });

  it('shares one revision counter between the projects of a domain, but not their kvs', async (t) => {
    const srv = await startServer(t);
    const a = new KieClient(srv.url);
    const b = new KieClient(srv.url);
    await a.create({ key: 'k', value: 'v' });
    await b.create({ key: 'k', value: 'v' });
    const la = await a.list();
    assert.equal(la.body.total, 1);
    assert.equal(revisionOf(la), 2);
    assert.equal(revisionOf(await b.list()), 2);
  });
});

describe('GET /v1/health', () => {
  it('reports version, revision (a string), time and kv count; empty with mode=liveness', async (t) => {
    const srv = await startServer(t);
    const c = new KieClient(srv.url);
    await c.create({ key: 'k', value: 'v' });
    const h = await fetch(`${srv.url}/v1/health`);
    const body = (await h.json()) as Record<string, unknown>;
    assert.equal(h.status, 200);
    assert.equal(body.revision, '1');
    assert.equal(body.total_kv_count, 1);
    assert.equal(body.timestamp, Math.floor(srv.clock.now() / 1000));
    assert.equal(typeof body.version, 'string');
    const live = await fetch(`${srv.url}/v1/health?mode=liveness`);
    assert.equal(live.status, 200);
    assert.equal(await live.text(), '');
  });
});
