import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ComponentRef, ComponentUsage } from '../../src/cas/types.js';
import { ADMIN } from '../helpers/iam-client.js';
import { CasClient, assertCasError, startCas, uniqName, type CasServer } from '../helpers/cas-client.js';
import { FIRST_SERVER_ONLY } from '../helpers/server.js';

const createGroup = async (cas: CasClient): Promise<any> => {
  const r = await cas.post('/config-groups', { name: uniqName('grp') });
  assert.equal(r.status, 200, r.text);
  return r.body;
};

const createConfig = async (cas: CasClient, groupId: string, body: Record<string, unknown> = {}): Promise<any> => {
  const r = await cas.post('/configs', { config_group_id: groupId, name: uniqName('cfg'), content: 'server:\n  port: 8080\n', type: 'yaml', ...body });
  assert.equal(r.status, 200, r.text);
  return r.body;
};

/**
 * Components come in a later issue; until then the service's ComponentUsage is swapped for
 * one that reports `mounts` for every config id in `ids`.
 */
function mountComponents(s: CasServer, ids: string[], mounts: ComponentRef[]): void {
  const usage: ComponentUsage = {
    countInEnvironment: async () => 0,
    countInApplication: async () => 0,
    countOnRuntimeStack: async () => 0,
    mountsOfConfig: async (_project, configId) => (ids.includes(configId) ? mounts : []),
  };
  s.server.cas.configs.deps.components = usage;
}

const comp: ComponentRef = { environment_id: 'env-1', application_id: 'app-1', component_id: 'comp-1', component_name: 'orders' };

describe('POST /v3/{project}/cas/configs', () => {
  it('creates a config file at version 1 with the wire fields of §7', async (t) => {
    const s = await startCas(t);
    const g = await createGroup(s.cas);
    const r = await s.cas.post('/configs', { config_group_id: g.id, name: 'app-config', content: 'a: 1\n', type: 'yaml', description: 'main' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(
      { ...r.body, id: undefined },
      {
        id: undefined,
        config_group_id: g.id,
        name: 'app-config',
        description: 'main',
        creator: ADMIN.name,
        type: 'yaml',
        content: 'a: 1\n',
        version: '1',
        project_id: ADMIN.projectId,
        sensitive: false,
        components: [],
        create_time: s.clock.now(),
        update_time: s.clock.now(),
        enterprise_project_id: '0',
      },
    );
    const got = await s.cas.get(`/configs/${r.body.id}`);
    assert.deepEqual(got.body, r.body);
  });

  it('keeps a sensitive properties file and returns its content exactly (multi-byte, $, quotes)', async (t) => {
    const s = await startCas(t);
    const g = await createGroup(s.cas);
    const content = 'db.password=$2b$10$abc"\'\nname=应用🚀\nkey=${CAS_APPLICATION_NAME}\n';
    const f = await createConfig(s.cas, g.id, { type: 'properties', sensitive: true, content });
    assert.equal(f.sensitive, true);
    assert.equal((await s.cas.get(`/configs/${f.id}`)).body.content, content);
  });

  it('returns 400 SVCSTG.00100459 for a name used in the same group, but allows it in another group', async (t) => {
    const s = await startCas(t);
    const g1 = await createGroup(s.cas);
    const g2 = await createGroup(s.cas);
    await createConfig(s.cas, g1.id, { name: 'shared' });
    assertCasError(await s.cas.post('/configs', { config_group_id: g1.id, name: 'shared', content: 'a: 2', type: 'yaml' }), 400, 'SVCSTG.00100459', /shared/);
    await createConfig(s.cas, g2.id, { name: 'shared' });
    assert.equal((await s.cas.get('/configs?name=shared')).body.count, 2);
  });

  it('returns 400 SVCSTG.00100400 naming config_group_id when the group does not exist', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.post('/configs', { config_group_id: 'nosuchgroup', name: 'abc', content: 'a: 1', type: 'yaml' }), 400, 'SVCSTG.00100400', /config_group_id/);
    assert.equal((await s.cas.get('/configs')).body.count, 0);
  });

  const badContent: [string, Record<string, unknown>, RegExp][] = [
    ['YAML content does not parse', { type: 'yaml', content: 'a: [1, 2\nb: 3' }, /body\/content is not valid YAML.*line/],
    ['YAML content repeats a key', { type: 'yaml', content: 'a: 1\na: 2' }, /body\/content is not valid YAML: Map keys must be unique/],
    ['properties content has a malformed \\u escape', { type: 'properties', content: 'a=1\nb=\\u12G4' }, /body\/content is not valid properties \(line 2\)/],
    ['content holds a NUL character', { type: 'properties', content: 'a=\u0000' }, /body\/content must not contain a NUL/],
    ['content holds a lone surrogate', { type: 'properties', content: 'a=\ud800' }, /body\/content is not valid Unicode/],
  ];
  for (const [what, body, msg] of badContent) {
    it(`returns 400 SVCSTG.00100400 when ${what}, and writes nothing`, async (t) => {
      const s = await startCas(t);
      const g = await createGroup(s.cas);
      assertCasError(await s.cas.post('/configs', { config_group_id: g.id, name: 'abc', ...body }), 400, 'SVCSTG.00100400', msg);
      assert.equal((await s.cas.get('/configs')).body.count, 0);
    });
  }

  it('accepts YAML with anchors, JSON-style flow content, several documents and empty content', async (t) => {
    const s = await startCas(t);
    const g = await createGroup(s.cas);
    for (const content of ['base: &b {x: 1}\nother: *b\n', '{"a": [1, {"b": null}]}', 'a: 1\n---\nb: 2\n', '']) {
      const f = await createConfig(s.cas, g.id, { content });
      assert.equal(f.content, content);
    }
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['config_group_id is missing', { config_group_id: undefined }, /body\/config_group_id is required/],
    ['name is missing', { name: undefined }, /body\/name is required/],
    ['content is missing', { content: undefined }, /body\/content is required/],
    ['type is missing', { type: undefined }, /body\/type is required/],
    ['name is 65 characters', { name: 'a'.repeat(65) }, /body\/name/],
    ['name is one character', { name: 'a' }, /body\/name/],
    ['name has a dot', { name: 'app.yaml' }, /body\/name/],
    ['content is a number', { content: 5 }, /body\/content/],
    ['content is an object', { content: { a: 1 } }, /body\/content/],
    ['type is json', { type: 'json' }, /body\/type must be one of "yaml", "properties"/],
    ['sensitive is a string', { sensitive: 'true' }, /body\/sensitive/],
    ['description is 129 characters', { description: 'd'.repeat(129) }, /body\/description/],
    ['config_group_id is a number', { config_group_id: 7 }, /body\/config_group_id/],
  ];
  for (const [what, patch, msg] of bad) {
    it(`returns 400 SVCSTG.00100400 naming the field when ${what}, and writes nothing`, async (t) => {
      const s = await startCas(t);
      const g = await createGroup(s.cas);
      const body = JSON.parse(JSON.stringify({ config_group_id: g.id, name: 'okname', content: 'a: 1', type: 'yaml', ...patch }));
      assertCasError(await s.cas.post('/configs', body), 400, 'SVCSTG.00100400', msg);
      assert.equal((await s.cas.get('/configs')).body.count, 0);
    });
  }
});

describe('GET /v3/{project}/cas/configs', () => {
  it('lists {count, configs} newest first with name, config_group_id and component_id filters and paging', { skip: FIRST_SERVER_ONLY }, async (t) => {
    const s = await startCas(t);
    const g1 = await createGroup(s.cas);
    const g2 = await createGroup(s.cas);
    const a = await createConfig(s.cas, g1.id, { name: 'alpha' });
    s.clock.advance(1000);
    const b = await createConfig(s.cas, g1.id, { name: 'beta' });
    s.clock.advance(1000);
    const c = await createConfig(s.cas, g2.id, { name: 'alpha' });
    const all = await s.cas.get('/configs');
    assert.equal(all.status, 200, all.text);
    assert.equal(all.body.count, 3);
    assert.deepEqual(all.body.configs.map((f: any) => f.id), [c.id, b.id, a.id]);
    assert.deepEqual(all.body.configs[1], b);
    assert.deepEqual((await s.cas.get('/configs?name=alpha')).body.configs.map((f: any) => f.id), [c.id, a.id]);
    assert.deepEqual((await s.cas.get(`/configs?config_group_id=${g1.id}&order=asc`)).body.configs.map((f: any) => f.id), [a.id, b.id]);
    assert.deepEqual((await s.cas.get('/configs?order_by=name&order=asc&limit=1&offset=2')).body, { count: 3, configs: [b] });
    assert.deepEqual((await s.cas.get('/configs?offset=5')).body, { count: 3, configs: [] });
    mountComponents(s, [b.id], [comp]);
    const mounted = await s.cas.get('/configs?component_id=comp-1');
    assert.equal(mounted.body.count, 1);
    assert.deepEqual(mounted.body.configs[0].components, [comp]);
    assert.deepEqual((await s.cas.get('/configs?component_id=other')).body, { count: 0, configs: [] });
  });
});

describe('GET /v3/{project}/cas/configs/{config_id}', () => {
  it('lists the components that mount the file', { skip: FIRST_SERVER_ONLY }, async (t) => {
    const s = await startCas(t);
    const f = await createConfig(s.cas, (await createGroup(s.cas)).id);
    mountComponents(s, [f.id], [comp]);
    assert.deepEqual((await s.cas.get(`/configs/${f.id}`)).body.components, [comp]);
  });

  it('returns 404 SVCSTG.00100404 for an unknown id', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.get('/configs/0123456789abcdef0123456789abcdef'), 404, 'SVCSTG.00100404');
  });
});

describe('PUT /v3/{project}/cas/configs/{config_id}', () => {
  it('writes a record holding the previous content, type and description, and increments the version', async (t) => {
    const s = await startCas(t);
    const g = await createGroup(s.cas);
    const f = await createConfig(s.cas, g.id, { name: 'app', content: 'a: 1\n', description: 'v1' });
    s.clock.advance(5000);
    const r = await s.cas.put(`/configs/${f.id}`, { config_group_id: g.id, name: 'app', content: 'a=2\n', type: 'properties', description: 'v2' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.version, '2');
    assert.equal(r.body.content, 'a=2\n');
    assert.equal(r.body.type, 'properties');
    assert.equal(r.body.description, 'v2');
    assert.equal(r.body.create_time, f.create_time);
    assert.equal(r.body.update_time, s.clock.now());
    const h = await s.cas.get(`/configs/${f.id}/histories`);
    assert.equal(h.status, 200, h.text);
    assert.equal(h.body.count, 1);
    const rec = h.body.histories[0];
    assert.match(rec.config_history_id, /^[0-9a-f]{32}$/);
    assert.deepEqual(
      { ...rec, config_history_id: undefined },
      { config_history_id: undefined, config_id: f.id, content: 'a: 1\n', version: '1', type: 'yaml', create_time: f.update_time, components: [], creator: ADMIN.name, group_id: g.id, config_name: 'app', description: 'v1' },
    );
  });

  it('writes nothing for a body identical to the stored file', async (t) => {
    const s = await startCas(t);
    const g = await createGroup(s.cas);
    const f = await createConfig(s.cas, g.id, { description: 'same' });
    s.clock.advance(1000);
    const r = await s.cas.put(`/configs/${f.id}`, { config_group_id: g.id, name: f.name, content: f.content, type: f.type, description: 'same', sensitive: false });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, f);
    assert.deepEqual((await s.cas.get(`/configs/${f.id}/histories`)).body, { count: 0, histories: [] });
  });

  it('clears the description with "" or when absent, and keeps sensitive when absent', async (t) => {
    const s = await startCas(t);
    const g = await createGroup(s.cas);
    const f = await createConfig(s.cas, g.id, { description: 'x', sensitive: true });
    const r = await s.cas.put(`/configs/${f.id}`, { name: f.name, content: f.content, type: f.type });
    assert.equal(r.body.description, '');
    assert.equal(r.body.sensitive, true);
    assert.equal(r.body.version, '2');
  });

  it('renames and moves a file to another group, refusing a name used there', async (t) => {
    const s = await startCas(t);
    const g1 = await createGroup(s.cas);
    const g2 = await createGroup(s.cas);
    const f = await createConfig(s.cas, g1.id, { name: 'one' });
    await createConfig(s.cas, g2.id, { name: 'taken' });
    assertCasError(await s.cas.put(`/configs/${f.id}`, { config_group_id: g2.id, name: 'taken', content: f.content, type: 'yaml' }), 400, 'SVCSTG.00100459');
    assert.equal((await s.cas.get(`/configs/${f.id}`)).body.version, '1');
    const moved = await s.cas.put(`/configs/${f.id}`, { config_group_id: g2.id, name: 'two', content: f.content, type: 'yaml' });
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.body.config_group_id, g2.id);
    assert.equal(moved.body.name, 'two');
    const rec = (await s.cas.get(`/configs/${f.id}/histories`)).body.histories[0];
    assert.equal(rec.group_id, g1.id);
    assert.equal(rec.config_name, 'one');
  });

  it('returns 404 SVCSTG.00100404 for an unknown file and 400 for an unknown group', async (t) => {
    const s = await startCas(t);
    const f = await createConfig(s.cas, (await createGroup(s.cas)).id);
    assertCasError(await s.cas.put('/configs/0123456789abcdef0123456789abcdef', { name: 'abc', content: 'a: 1', type: 'yaml' }), 404, 'SVCSTG.00100404');
    assertCasError(await s.cas.put(`/configs/${f.id}`, { config_group_id: 'nosuch', name: 'abc', content: 'a: 1', type: 'yaml' }), 400, 'SVCSTG.00100400', /config_group_id/);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['name is missing', { name: undefined }, /body\/name is required/],
    ['content is missing', { content: undefined }, /body\/content is required/],
    ['type is missing', { type: undefined }, /body\/type is required/],
    ['type is xml', { type: 'xml' }, /body\/type must be one of/],
    ['name is 65 characters', { name: 'b'.repeat(65) }, /body\/name/],
    ['description is 129 characters', { description: 'd'.repeat(129) }, /body\/description/],
    ['sensitive is 1', { sensitive: 1 }, /body\/sensitive/],
    ['content is not YAML', { content: 'a: [' }, /body\/content is not valid YAML/],
  ];
  for (const [what, patch, msg] of bad) {
    it(`returns 400 SVCSTG.00100400 naming the field when ${what}, and changes nothing`, async (t) => {
      const s = await startCas(t);
      const f = await createConfig(s.cas, (await createGroup(s.cas)).id);
      const body = JSON.parse(JSON.stringify({ name: f.name, content: 'b: 2', type: 'yaml', ...patch }));
      assertCasError(await s.cas.put(`/configs/${f.id}`, body), 400, 'SVCSTG.00100400', msg);
      assert.deepEqual((await s.cas.get(`/configs/${f.id}`)).body, f);
      assert.equal((await s.cas.get(`/configs/${f.id}/histories`)).body.count, 0);
    });
  }
});

describe('DELETE /v3/{project}/cas/configs/{config_id}', () => {
  it('deletes the file and its records with 200 and an empty body', async (t) => {
    const s = await startCas(t);
    const f = await createConfig(s.cas, (await createGroup(s.cas)).id);
    await s.cas.put(`/configs/${f.id}`, { name: f.name, content: 'b: 2', type: 'yaml' });
    const rec = (await s.cas.get(`/configs/${f.id}/histories`)).body.histories[0];
    const r = await s.cas.delete(`/configs/${f.id}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, '');
    assertCasError(await s.cas.get(`/configs/${f.id}`), 404, 'SVCSTG.00100404');
    assertCasError(await s.cas.get(`/configs/${f.id}/histories/${rec.config_history_id}`), 404, 'SVCSTG.00100404');
  });

  it('answers 404 SVCSTG.00100404 for an unknown file, as its GET does (issue #15 L3)', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.delete('/configs/0123456789abcdef0123456789abcdef', {}), 404, 'SVCSTG.00100404');
    const f = await createConfig(s.cas, (await createGroup(s.cas)).id);
    assert.equal((await s.cas.delete(`/configs/${f.id}`)).status, 200);
    assertCasError(await s.cas.delete(`/configs/${f.id}`), 404, 'SVCSTG.00100404', /does not exist/);
  });

  it('refuses with 400 SVCSTG.00100402 naming the components while components mount the file', { skip: FIRST_SERVER_ONLY }, async (t) => {
    const s = await startCas(t);
    const f = await createConfig(s.cas, (await createGroup(s.cas)).id);
    mountComponents(s, [f.id], [comp]);
    assertCasError(await s.cas.delete(`/configs/${f.id}`), 400, 'SVCSTG.00100402', /orders/);
    assert.equal((await s.cas.get(`/configs/${f.id}`)).status, 200);
  });
});

describe('GET /v3/{project}/cas/configs/{config_id}/histories', () => {
  it('lists records newest version first, pages them, and answers [] past the end', async (t) => {
    const s = await startCas(t);
    const f = await createConfig(s.cas, (await createGroup(s.cas)).id, { content: 'v: 1' });
    for (let v = 2; v <= 4; v += 1) {
      const r = await s.cas.put(`/configs/${f.id}`, { name: f.name, content: `v: ${v}`, type: 'yaml' });
      assert.equal(r.body.version, String(v));
    }
    const all = await s.cas.get(`/configs/${f.id}/histories`);
    assert.equal(all.body.count, 3);
    assert.deepEqual(all.body.histories.map((h: any) => [h.version, h.content]), [['3', 'v: 3'], ['2', 'v: 2'], ['1', 'v: 1']]);
    const page = await s.cas.get(`/configs/${f.id}/histories?order=asc&offset=1&limit=1`);
    assert.deepEqual(page.body.histories.map((h: any) => h.version), ['2']);
    assert.equal(page.body.count, 3);
    assert.deepEqual((await s.cas.get(`/configs/${f.id}/histories?offset=3`)).body, { count: 3, histories: [] });
  });

  it('returns 404 SVCSTG.00100404 for an unknown file', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.get('/configs/0123456789abcdef0123456789abcdef/histories'), 404, 'SVCSTG.00100404');
  });
});

describe('GET /v3/{project}/cas/configs/{config_id}/histories/{config_history_id}', () => {
  it('returns one record, also through the documented /cas//configs path', async (t) => {
    const s = await startCas(t);
    const f = await createConfig(s.cas, (await createGroup(s.cas)).id, { content: 'old: 1' });
    await s.cas.put(`/configs/${f.id}`, { name: f.name, content: 'new: 1', type: 'yaml' });
    const listed = (await s.cas.get(`/configs/${f.id}/histories`)).body.histories[0];
    const one = await s.cas.get(`/configs/${f.id}/histories/${listed.config_history_id}`);
    assert.equal(one.status, 200, one.text);
    assert.deepEqual(one.body, listed);
    const doubled = await s.cas.get(`//configs/${f.id}/histories/${listed.config_history_id}`);
    assert.equal(doubled.status, 200, doubled.text);
    assert.deepEqual(doubled.body, listed);
    assert.equal(doubled.body.content, 'old: 1');
  });

  it('returns 404 SVCSTG.00100404 for an unknown record', async (t) => {
    const s = await startCas(t);
    const f = await createConfig(s.cas, (await createGroup(s.cas)).id);
    assertCasError(await s.cas.get(`/configs/${f.id}/histories/0123456789abcdef0123456789abcdef`), 404, 'SVCSTG.00100404');
  });
});

describe('DELETE /v3/{project}/cas/configs/{config_id}/histories/{config_history_id}', () => {
  it('deletes one record with 200 and leaves the file and other records', async (t) => {
    const s = await startCas(t);
    const f = await createConfig(s.cas, (await createGroup(s.cas)).id, { content: 'v: 1' });
    await s.cas.put(`/configs/${f.id}`, { name: f.name, content: 'v: 2', type: 'yaml' });
    await s.cas.put(`/configs/${f.id}`, { name: f.name, content: 'v: 3', type: 'yaml' });
    const [newer, older] = (await s.cas.get(`/configs/${f.id}/histories`)).body.histories;
    const r = await s.cas.delete(`/configs/${f.id}/histories/${older.config_history_id}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual((await s.cas.get(`/configs/${f.id}/histories`)).body, { count: 1, histories: [newer] });
    assert.equal((await s.cas.get(`/configs/${f.id}`)).body.version, '3');
    assertCasError(await s.cas.delete(`/configs/${f.id}/histories/${older.config_history_id}`), 404, 'SVCSTG.00100404');
  });
});

describe('config management across a restart', () => {
  it('keeps groups, files (sensitive ones too) and records', async (t) => {
    const s = await startCas(t);
    const g = await createGroup(s.cas);
    const plain = await createConfig(s.cas, g.id, { content: 'a: 1' });
    const secret = await createConfig(s.cas, g.id, { type: 'properties', content: 'password=$2b$10$xyz\n', sensitive: true });
    await s.cas.put(`/configs/${plain.id}`, { name: plain.name, content: 'a: 2', type: 'yaml' });
    const group = (await s.cas.get(`/config-groups/${g.id}`)).body;
    const files = (await s.cas.get('/configs')).body;
    const records = (await s.cas.get(`/configs/${plain.id}/histories`)).body;
    // Sealed at rest: the stored text of a sensitive file is not its content.
    const row = await s.server.db.kysely.selectFrom('cas_configs').select(['content', 'content_sealed']).where('id', '=', secret.id).executeTakeFirstOrThrow();
    assert.equal(Number(row.content_sealed), 1);
    assert.ok(!row.content.includes('$2b$10$xyz'));
    const again = new CasClient((await s.restart()).url, s.cas.token);
    assert.deepEqual((await again.get(`/config-groups/${g.id}`)).body, group);
    assert.deepEqual((await again.get('/configs')).body, files);
    assert.equal(files.count, 2);
    assert.deepEqual((await again.get(`/configs/${plain.id}/histories`)).body, records);
    assert.equal(records.count, 1);
    assert.equal((await again.get(`/configs/${secret.id}`)).body.content, 'password=$2b$10$xyz\n');
  });
});

describe('ConfigService.renderForMount', () => {
  it('renders system variables of the stored content and leaves the rest', async (t) => {
    const s = await startCas(t);
    const content = 'app: ${CAS_APPLICATION_NAME}\nother: ${UNKNOWN}\nhash: $2b$10$abc\nlit: $${CAS_APPLICATION_NAME}\n';
    const f = await createConfig(s.cas, (await createGroup(s.cas)).id, { content });
    const r = await s.server.cas.configs.renderForMount(ADMIN.projectId, f.id, { CAS_APPLICATION_NAME: 'shop' });
    assert.deepEqual(r, { id: f.id, name: f.name, type: 'yaml', version: 1, sensitive: false, content: 'app: shop\nother: ${UNKNOWN}\nhash: $2b$10$abc\nlit: ${CAS_APPLICATION_NAME}\n' });
    await assert.rejects(s.server.cas.configs.renderForMount(ADMIN.projectId, 'nosuch', {}), { code: 'SVCSTG.00100404' });
  });
});
