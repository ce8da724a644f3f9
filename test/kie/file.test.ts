import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertError } from '../helpers/assert.js';
import { KieClient, revisionOf, type Kv } from '../helpers/kie-client.js';
import { ADMIN, IAM_OVERRIDES, login, signedCall } from '../helpers/iam-client.js';
import { call } from '../helpers/registry-client.js';
import { startServer } from '../helpers/server.js';

/** Import/export sit behind the IAM check; these tests exercise the config logic, so it is off here (see the IAM tests below). */
const OPEN = { auth: 'none' };

const items = [
  { key: 'a', value: '1', labels: { app: 'shop' }, status: 'enabled' },
  { key: 'b', value: 'x: 1', value_type: 'yaml', labels: { app: 'shop', service: 'orders' } },
  { key: 'c', value: '3' },
];

/** What identifies a kv's state, without revisions and times. */
const state = (kvs: Kv[]): unknown[] =>
  kvs.map((k) => ({ id: k.id, key: k.key, value: k.value, value_type: k.value_type, status: k.status, priority: k.priority ?? 0, labels: k.labels ?? {} })).sort((x, y) => x.key.localeCompare(y.key));

describe('POST /v1/{project}/kie/file', () => {
  it('imports the JSON body of open-source Kie: every item in success, one revision each', async (t) => {
    const srv = await startServer(t, OPEN);
    const c = new KieClient(srv.url, 'default');
    const r = await c.req('POST', '/file?override=force', { metadata: { version: '1.0' }, data: items });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.failure, []);
    assert.deepEqual(r.body.success.map((k: Kv) => [k.key, k.status, k.value_type, k.create_revision]), [
      ['a', 'enabled', 'text', 1],
      ['b', 'disabled', 'yaml', 2],
      ['c', 'disabled', 'text', 3],
    ]);
    const list = await c.list();
    assert.equal(list.body.total, 3);
    assert.equal(revisionOf(list), 3);
  });

  it('imports the multipart upload_file form of the Huawei SDK and forces the label query onto every item', async (t) => {
    const srv = await startServer(t, OPEN);
    const c = new KieClient(srv.url, 'default');
    const form = new FormData();
    form.append('upload_file', new Blob([JSON.stringify({ data: items })], { type: 'application/json' }), 'kie.json');
    const res = await fetch(`${c.base}${c.prefix}/file?override=force&label=env:prod`, { method: 'POST', body: form });
    const body = (await res.json()) as { success: Kv[]; failure: unknown[] };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.success.length, 3);
    assert.deepEqual(body.success.map((k) => k.labels), [{ app: 'shop', env: 'prod' }, { app: 'shop', service: 'orders', env: 'prod' }, { env: 'prod' }]);
    assert.equal((await c.list({ label: 'env:prod' })).body.total, 3);
  });

  it('imports a YAML body', async (t) => {
    const srv = await startServer(t, OPEN);
    const c = new KieClient(srv.url, 'default');
    const r = await c.req('POST', '/file', 'data:\n  - key: y\n    value: "1"\n    status: enabled\n', { 'content-type': 'text/yaml' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.success[0].key, 'y');
  });

  it('force updates a duplicate keeping its id; skip reports 400004; abort reports the duplicate and every later item as 400005', async (t) => {
    const srv = await startServer(t, OPEN);
    const c = new KieClient(srv.url, 'default');
    const existing = await c.create({ key: 'b', value: 'old', labels: { app: 'shop', service: 'orders' } });
    const forced = await c.req('POST', '/file?override=force', { data: items });
    assert.deepEqual(forced.body.failure, []);
    const b = forced.body.success.find((k: Kv) => k.key === 'b');
    assert.equal(b.id, existing.id);
    assert.equal(b.value, 'x: 1');
    assert.equal(b.value_type, 'yaml');
    assert.equal(b.update_revision, 3);

    // Imports act in the engine's project `default`: each strategy gets a server of its own.
    const c2 = new KieClient((await startServer(t, OPEN)).url, 'default');
    await c2.create({ key: 'b', value: 'old', labels: { app: 'shop', service: 'orders' } });
    const skipped = await c2.req('POST', '/file?override=skip', { data: items });
    assert.deepEqual(skipped.body.success.map((k: Kv) => k.key), ['a', 'c']);
    assert.deepEqual(skipped.body.failure, [{ key: 'b', labels: { app: 'shop', service: 'orders' }, error_code: '400004', error_message: 'skip overriding duplicate kvs' }]);

    const c3 = new KieClient((await startServer(t, OPEN)).url, 'default');
    await c3.create({ key: 'b', value: 'old', labels: { app: 'shop', service: 'orders' } });
    const aborted = await c3.req('POST', '/file?override=abort', { data: items });
    assert.deepEqual(aborted.body.success.map((k: Kv) => k.key), ['a']);
    assert.deepEqual(aborted.body.failure.map((f: { key: string; error_code: string }) => [f.key, f.error_code]), [
      ['b', '400005'],
      ['c', '400005'],
    ]);
    assert.equal(aborted.body.failure[0].error_message, 'stop overriding kvs after reaching the duplicate kv');
    assert.equal((await c3.req('GET', `/kv/${aborted.body.success[0].id}`)).status, 200);
  });

  it('reports validation and quota failures per item and goes on', async (t) => {
    const srv = await startServer(t, { ...OPEN, 'quota.configs': 2 });
    const c = new KieClient(srv.url, 'default');
    const r = await c.req('POST', '/file?override=force', { data: [{ key: 'bad key', value: 'v' }, { key: 'ok1', value: 'v', status: 'on' }, { key: 'ok2', value: 'v' }, { key: 'ok3', value: 'v' }, { key: 'ok4', value: 'v' }] });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.success.map((k: Kv) => k.key), ['ok2', 'ok3']);
    assert.deepEqual(r.body.failure.map((f: { key: string; error_code: string }) => [f.key, f.error_code]), [
      ['bad key', '400001'],
      ['ok1', '400001'],
      ['ok4', '422001'],
    ]);
    assert.match(r.body.failure[0].error_message, /^validate failed, field: KVDoc.Key, rule: /);
    assert.match(r.body.failure[1].error_message, /^validate failed, field: KVDoc.Status, rule: /);
  });

  it('returns 400001 for an unknown override, a body without data, or a multipart body without upload_file', async (t) => {
    const srv = await startServer(t, OPEN);
    const c = new KieClient(srv.url, 'default');
    assertError(await c.req('POST', '/file?override=merge', { data: [] }), 400, '400001');
    assertError(await c.req('POST', '/file?override=force', { items: [] }), 400, '400001');
    assertError(await c.req('POST', '/file?override=force', { data: 'x' }), 400, '400001');
    assertError(await c.req('POST', '/file?label=bad', { data: [] }), 400, '400001');
    const form = new FormData();
    form.append('other', 'x');
    const res = await fetch(`${c.base}${c.prefix}/file`, { method: 'POST', body: form });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { errorCode: string }).errorCode, '400001');
  });
});

describe('POST /v1/{project}/kie/download', () => {
  it('exports by labels or ids, and the output re-imports to the same state', async (t) => {
    const srv = await startServer(t, OPEN);
    const c = new KieClient(srv.url, 'default');
    await c.req('POST', '/file', { data: [...items, { key: 'p', value: 'v', priority: 2 }] });
    const before = (await c.list()).body.data;

    const byLabel = await c.req('POST', '/download?label=app:shop');
    assert.equal(byLabel.status, 200, byLabel.text);
    assert.equal(byLabel.body.metadata.version, '1.0');
    assert.deepEqual(byLabel.body.data.map((k: { key: string }) => k.key).sort(), ['a', 'b']);
    assert.deepEqual(Object.keys(byLabel.body.data[0]).sort(), ['id', 'key', 'labels', 'status', 'value', 'value_type']);
    assert.deepEqual(byLabel.body.data.map((k: Kv) => k.id).sort(), before.filter((k) => k.labels?.app === 'shop').map((k) => k.id).sort());
    assert.equal((await c.req('POST', '/download')).body.data.find((k: { key: string }) => k.key === 'p').priority, 2);
    const exact = await c.req('POST', '/download?label=app:shop&match=exact');
    assert.deepEqual(exact.body.data.map((k: { key: string }) => k.key), ['a']);
    const a = before.find((k) => k.key === 'a')!;
    const byIds = await c.req('POST', '/download', { ids: [a.id, 'unknown'] });
    assert.deepEqual(byIds.body.data.map((k: { key: string }) => k.key), ['a']);

    const all = await c.req('POST', '/download');
    assert.equal(all.body.data.length, 4);
    // Change everything, then re-import the export with force: the same state comes back.
    await c.update(a.id, { value: 'changed', status: 'disabled' });
    await c.req('DELETE', '/kv', { ids: [before.find((k) => k.key === 'c')!.id] });
    const re = await c.req('POST', '/file?override=force', all.body);
    assert.deepEqual(re.body.failure, []);
    assert.deepEqual(state((await c.list()).body.data), state(before));
    // And into an empty project: the same kvs, with the ids of that project.
    const fresh = new KieClient((await startServer(t, OPEN)).url, 'default');
    await fresh.req('POST', '/file', all.body);
    assert.deepEqual(state((await fresh.list()).body.data).map((k) => ({ ...(k as object), id: undefined })), state(before).map((k) => ({ ...(k as object), id: undefined })));
  });

  it('answers YAML on Accept: text/yaml, and 400001 for bad ids', async (t) => {
    const srv = await startServer(t, OPEN);
    const c = new KieClient(srv.url, 'default');
    await c.create({ key: 'k', value: 'v' });
    const r = await c.req('POST', '/download', undefined, { accept: 'text/yaml' });
    assert.match(r.headers.get('content-type') ?? '', /^text\/yaml/);
    assert.match(r.text, /^data:\n {2}- id: [0-9a-f]{64}\n {4}key: k$/m);
    assertError(await c.req('POST', '/download', { ids: 'x' }), 400, '400001');
  });
});

describe('IAM on import and export', () => {
  it('needs an X-Auth-Token or an AK/SK signature for the project, and answers 401/403 in the Kie error format', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    const path = `/v1/${ADMIN.projectId}/kie/download`;
    const anonymous = await call(srv.url, 'POST', path, { body: {} });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.errorCode, 'APIGW.0301');
    const signed = await signedCall(srv.url, 'POST', path, { body: '{}', dateMs: srv.clock.now() });
    assert.equal(signed.status, 200, signed.text);
    const token = (await login(srv.url, ADMIN.name, ADMIN.password)).headers.get('x-subject-token')!;
    const imported = await call(srv.url, 'POST', `/v1/${ADMIN.projectId}/kie/file?override=force`, { body: { data: [{ key: 'k1', value: 'v1', labels: { app: 'a' } }] }, headers: { 'X-Auth-Token': token } });
    assert.equal(imported.status, 200, imported.text);
    assert.equal(imported.body.success.length, 1);
    const other = await call(srv.url, 'POST', '/v1/someoneelse/kie/download', { body: {}, headers: { 'X-Auth-Token': token } });
    assert.equal(other.status, 403);
    assert.equal(other.body.errorCode, 'APIGW.0302');
    // The tenant's import lands in the engine's Kie project `default`, where chassis clients read.
    const inDefault = await call(srv.url, 'GET', '/v1/default/kie/kv?key=k1');
    assert.deepEqual(inDefault.body.data.map((k: Kv) => k.value), ['v1']);
    assert.equal((await call(srv.url, 'GET', `/v1/${ADMIN.projectId}/kie/kv?key=k1`)).body.total, 0);
    const tampered = await signedCall(srv.url, 'POST', `/v1/${ADMIN.projectId}/kie/file?override=force`, {
      body: JSON.stringify({ data: [{ key: 'k2', value: 'v' }] }),
      dateMs: srv.clock.now(),
      tamper: (r) => void (r.body = JSON.stringify({ data: [{ key: 'k3', value: 'v' }] })),
    });
    assert.equal(tampered.status, 401);
  });
});

describe('CSE import/export as the Huawei SDKs call it (issue #18)', () => {
  it('treats {"ids": null} (Go DownloadKie by label) as no ids', async (t) => {
    const srv = await startServer(t, OPEN);
    const c = new KieClient(srv.url, 'default');
    await c.req('POST', '/file', { data: items });
    const r = await c.req('POST', '/download?label=app:shop', { ids: null });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.data.map((k: Kv) => k.key).sort(), ['a', 'b']);
  });

  it('answers errors with Huawei error_code/error_msg beside Kie errorCode/errorMessage, and unknown kie paths with Kie 404', async (t) => {
    const srv = await startServer(t, OPEN);
    const c = new KieClient(srv.url, 'default');
    const bad = await c.req('POST', '/file?override=merge', { data: [] });
    assertError(bad, 400, '400001');
    assert.equal(bad.body.error_code, '400001');
    assert.match(bad.body.error_msg, /override must be force, skip or abort/);
    const unknownEngine = await c.req('POST', '/download', {}, { 'x-engine-id': 'no-such-engine' });
    assert.equal(unknownEngine.status, 400, unknownEngine.text);
    assert.equal(unknownEngine.body.error_code, 'SVCSTG.00501116');
    assert.equal(unknownEngine.body.errorCode, 'SVCSTG.00501116');
    const builtIn = await c.req('POST', '/download', {}, { 'x-engine-id': 'default' });
    assert.equal(builtIn.status, 200, builtIn.text);
    const unknownPath = await c.req('DELETE', '/nosuch');
    assertError(unknownPath, 404, '404001');
  });
});
