import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ADMIN } from '../helpers/iam-client.js';
import { assertCasError, CasClient, startCas, uniqName, type CasServer } from '../helpers/cas-client.js';
import { FIRST_SERVER_ONLY } from '../helpers/server.js';
import type { ComponentUsage } from '../../src/cas/types.js';

/** Makes the server's component service answer `usage` (per server: its own deps object). */
function fakeComponents(s: CasServer, usage: Partial<ComponentUsage>): void {
  const deps = s.server.cas.applications['deps'];
  deps.components = { ...deps.components, ...usage };
}

async function createApp(s: CasServer, body: Record<string, unknown> = {}) {
  const r = await s.cas.post('/applications', { name: uniqName('app'), ...body });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

describe('POST /v3/{project}/cas/applications', () => {
  it('creates an application with defaults and answers the full object', async (t) => {
    const s = await startCas(t);
    const name = uniqName('app');
    const r = await s.cas.post('/applications', { name });
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.id, /^[0-9a-f-]{36}$/);
    assert.equal(r.body.name, name);
    assert.equal(r.body.description, '');
    assert.equal(r.body.enterprise_project_id, '0');
    assert.deepEqual(r.body.labels, []);
    assert.equal(r.body.project_id, ADMIN.projectId);
    assert.equal(r.body.creator, ADMIN.name);
    assert.equal(r.body.component_count, 0);
    assert.equal(r.body.create_time, s.clock.now());
    assert.equal(r.body.update_time, s.clock.now());
  });

  it('keeps description, enterprise project and labels', async (t) => {
    const s = await startCas(t);
    const labels = [{ key: 'team', value: 'a' }, { key: 'tier', value: '' }];
    const app = await createApp(s, { description: 'the shop', enterprise_project_id: 'eps-1', labels });
    const r = await s.cas.get(`/applications/${app.id}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.description, 'the shop');
    assert.equal(r.body.enterprise_project_id, 'eps-1');
    assert.deepEqual(r.body.labels, labels);
  });

  it('returns 400 SVCSTG.00100458 for a name used in the project', async (t) => {
    const s = await startCas(t);
    const app = await createApp(s);
    assertCasError(await s.cas.post('/applications', { name: app.name }), 400, 'SVCSTG.00100458', new RegExp(app.name));
    const list = await s.cas.get('/applications');
    assert.equal(list.body.count, 1);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['name is missing', {}, /name/],
    ['name is a number', { name: 12 }, /name/],
    ['name is one character', { name: 'a' }, /name/],
    ['name is 65 characters', { name: `a${'b'.repeat(64)}` }, /name/],
    ['name starts with a digit', { name: '1abc' }, /name/],
    ['name ends with a dash', { name: 'abc-' }, /name/],
    ['name has a dot', { name: 'ab.c' }, /name/],
    ['description is 129 characters', { name: 'okname', description: 'x'.repeat(129) }, /description/],
    ['description is a number', { name: 'okname', description: 5 }, /description/],
    ['enterprise_project_id has a space', { name: 'okname', enterprise_project_id: 'a b' }, /enterprise_project_id/],
    ['labels is a map', { name: 'okname', labels: { a: 'b' } }, /labels/],
    ['a label has no key', { name: 'okname', labels: [{ value: 'b' }] }, /key/],
    ['a label value is a number', { name: 'okname', labels: [{ key: 'a', value: 1 }] }, /value/],
  ];
  for (const [what, body, field] of bad) {
    it(`returns 400 SVCSTG.00100400 and writes nothing when ${what}`, async (t) => {
      const s = await startCas(t);
      assertCasError(await s.cas.post('/applications', body), 400, 'SVCSTG.00100400', field);
      assert.equal((await s.cas.get('/applications')).body.count, 0);
    });
  }
});

describe('GET /v3/{project}/cas/applications', () => {
  it('lists with count, paging and ordering, and [] past the end', async (t) => {
    const s = await startCas(t);
    const ids: string[] = [];
    for (const name of ['bravo', 'alpha', 'charlie']) {
      ids.push((await createApp(s, { name: uniqName(name) })).id);
      s.clock.advance(1000);
    }
    const all = await s.cas.get('/applications');
    assert.equal(all.status, 200);
    assert.equal(all.body.count, 3);
    assert.deepEqual(all.body.applications.map((a: any) => a.id), [...ids].reverse(), 'default: create_time desc');
    const asc = await s.cas.get('/applications?order_by=name&order=asc');
    assert.deepEqual(asc.body.applications.map((a: any) => a.name.slice(0, 5)), ['alpha', 'bravo', 'charl']);
    const page = await s.cas.get('/applications?limit=2&offset=1&order=asc');
    assert.deepEqual(page.body.applications.map((a: any) => a.id), ids.slice(1, 3));
    assert.equal(page.body.count, 3);
    const past = await s.cas.get('/applications?limit=100&offset=3');
    assert.deepEqual(past.body.applications, []);
    assert.equal(past.body.count, 3);
  });

  it('returns 400 SVCSTG.00100400 for a limit over 100', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.get('/applications?limit=101'), 400, 'SVCSTG.00100400', /limit/);
  });
});

describe('GET /v3/{project}/cas/applications/{application_id}', () => {
  it('returns 401 SVCSTG.00100401 for an unknown application', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.get('/applications/00000000-0000-4000-8000-000000000000'), 401, 'SVCSTG.00100401');
  });

  it('counts components through the component service', { skip: FIRST_SERVER_ONLY }, async (t) => {
    const s = await startCas(t);
    const app = await createApp(s);
    fakeComponents(s, { countInApplication: async (_p, id) => (id === app.id ? 2 : 0) });
    assert.equal((await s.cas.get(`/applications/${app.id}`)).body.component_count, 2);
  });
});

describe('PUT /v3/{project}/cas/applications/{application_id}', () => {
  it('changes name, description and labels (full list) and keeps the rest', async (t) => {
    const s = await startCas(t);
    const app = await createApp(s, { description: 'old', labels: [{ key: 'a', value: '1' }] });
    s.clock.advance(5000);
    const name = uniqName('renamed');
    const r = await s.cas.put(`/applications/${app.id}`, { name, description: 'new', labels: [{ key: 'b', value: '2' }] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.name, name);
    assert.equal(r.body.description, 'new');
    assert.deepEqual(r.body.labels, [{ key: 'b', value: '2' }]);
    assert.equal(r.body.create_time, app.create_time);
    assert.equal(r.body.update_time, app.create_time + 5000);
    const cleared = await s.cas.put(`/applications/${app.id}`, { description: '', labels: [] });
    assert.equal(cleared.body.name, name);
    assert.equal(cleared.body.description, '');
    assert.deepEqual(cleared.body.labels, []);
  });

  it('returns 400 SVCSTG.00100458 when renaming onto another application', async (t) => {
    const s = await startCas(t);
    const a = await createApp(s);
    const b = await createApp(s);
    assertCasError(await s.cas.put(`/applications/${b.id}`, { name: a.name }), 400, 'SVCSTG.00100458');
    assert.equal((await s.cas.get(`/applications/${b.id}`)).body.name, b.name);
    assert.equal((await s.cas.put(`/applications/${a.id}`, { name: a.name })).status, 200, 'keeping its own name is fine');
  });

  it('returns 401 SVCSTG.00100401 for an unknown application', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.put('/applications/nope', { description: 'x' }), 401, 'SVCSTG.00100401');
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['name is bad', { name: '-x' }, /name/],
    ['name is null', { name: null }, /name/],
    ['description is too long', { description: 'x'.repeat(129) }, /description/],
    ['labels is not a list', { labels: 'a=b' }, /labels/],
    ['there are 21 labels', { labels: Array.from({ length: 21 }, (_, i) => ({ key: `k${i}`, value: 'v' })) }, /labels/],
  ];
  for (const [what, body, field] of bad) {
    it(`returns 400 SVCSTG.00100400 and changes nothing when ${what}`, async (t) => {
      const s = await startCas(t);
      const app = await createApp(s, { description: 'keep' });
      assertCasError(await s.cas.put(`/applications/${app.id}`, body), 400, 'SVCSTG.00100400', field);
      const after = await s.cas.get(`/applications/${app.id}`);
      assert.equal(after.body.description, 'keep');
      assert.equal(after.body.name, app.name);
    });
  }
});

describe('DELETE /v3/{project}/cas/applications/{application_id}', () => {
  it('deletes with 204, publishes cas.application.deleted, then 401', { skip: FIRST_SERVER_ONLY }, async (t) => {
    const s = await startCas(t);
    const app = await createApp(s);
    const events: unknown[] = [];
    s.server.cas.applications['deps'].bus.subscribe('cas.application.deleted', (e: unknown) => events.push(e));
    const r = await s.cas.delete(`/applications/${app.id}`, { ignored: true });
    assert.equal(r.status, 204, r.text);
    assert.equal(r.text, '');
    assert.deepEqual(events, [{ project: ADMIN.projectId, applicationId: app.id }]);
    assertCasError(await s.cas.get(`/applications/${app.id}`), 401, 'SVCSTG.00100401');
    assertCasError(await s.cas.delete(`/applications/${app.id}`), 401, 'SVCSTG.00100401');
  });

  it('refuses with 400 SVCSTG.00100402 while the application has components', { skip: FIRST_SERVER_ONLY }, async (t) => {
    const s = await startCas(t);
    const app = await createApp(s);
    fakeComponents(s, { countInApplication: async () => 1 });
    assertCasError(await s.cas.delete(`/applications/${app.id}`), 400, 'SVCSTG.00100402', /component/);
    assert.equal((await s.cas.get(`/applications/${app.id}`)).status, 200);
  });
});

describe('applications after a restart', () => {
  it('keeps every field', async (t) => {
    const s = await startCas(t);
    const app = await createApp(s, { description: 'durable', labels: [{ key: 'k', value: 'v' }] });
    const s2 = await s.restart();
    const again = await new CasClient(s2.url, s.cas.token).get(`/applications/${app.id}`);
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.body, app);
  });
});
