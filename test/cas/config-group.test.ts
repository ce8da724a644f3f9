import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ADMIN } from '../helpers/iam-client.js';
import { assertCasError, startCas, uniqName, type CasClient } from '../helpers/cas-client.js';

const createGroup = async (cas: CasClient, body: Record<string, unknown> = {}): Promise<any> => {
  const r = await cas.post('/config-groups', { name: uniqName('grp'), ...body });
  assert.equal(r.status, 200, r.text);
  return r.body;
};

describe('POST /v3/{project}/cas/config-groups', () => {
  it('creates a group with defaults: description null, enterprise project "0", epoch-ms times, the caller as creator', async (t) => {
    const s = await startCas(t);
    const name = uniqName('grp');
    const r = await s.cas.post('/config-groups', { name });
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(
      { ...r.body, id: undefined },
      { id: undefined, project_id: ADMIN.projectId, name, description: null, creator: ADMIN.name, enterprise_project_id: '0', labels: [], create_time: s.clock.now(), update_time: s.clock.now() },
    );
  });

  it('keeps description, enterprise project and labels', async (t) => {
    const s = await startCas(t);
    const g = await createGroup(s.cas, { description: 'shared settings', enterprise_project_id: 'eps-1', labels: [{ key: 'team', value: 'a' }] });
    const r = await s.cas.get(`/config-groups/${g.id}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.description, 'shared settings');
    assert.equal(r.body.enterprise_project_id, 'eps-1');
    assert.deepEqual(r.body.labels, [{ key: 'team', value: 'a' }]);
  });

  it('returns 400 SVCSTG.00100459 for a name already used in the project, and writes nothing', async (t) => {
    const s = await startCas(t);
    const g = await createGroup(s.cas);
    assertCasError(await s.cas.post('/config-groups', { name: g.name }), 400, 'SVCSTG.00100459', new RegExp(g.name));
    const list = await s.cas.get(`/config-groups?name=${g.name}`);
    assert.equal(list.body.count, 1);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['name is missing', {}, /body\/name is required/],
    ['name is a number', { name: 12 }, /body\/name/],
    ['name is one character', { name: 'a' }, /body\/name/],
    ['name is 65 characters', { name: 'a'.repeat(65) }, /body\/name/],
    ['name starts with a digit', { name: '1abc' }, /body\/name/],
    ['name ends with "-"', { name: 'abc-' }, /body\/name/],
    ['description is 257 characters', { name: 'okname', description: 'd'.repeat(257) }, /body\/description/],
    ['description is not a string', { name: 'okname', description: true }, /body\/description/],
    ['enterprise_project_id has a space', { name: 'okname', enterprise_project_id: 'a b' }, /body\/enterprise_project_id/],
    ['labels is a map', { name: 'okname', labels: { a: 'b' } }, /body\/labels/],
    ['a label has no key', { name: 'okname', labels: [{ value: 'b' }] }, /body\/labels\/0\/key/],
  ];
  for (const [what, body, msg] of bad) {
    it(`returns 400 SVCSTG.00100400 naming the field when ${what}, and writes nothing`, async (t) => {
      const s = await startCas(t);
      assertCasError(await s.cas.post('/config-groups', body), 400, 'SVCSTG.00100400', msg);
      assert.equal((await s.cas.get('/config-groups')).body.count, 0);
    });
  }
});

describe('GET /v3/{project}/cas/config-groups', () => {
  it('lists {count, config_groups} newest first, filters by exact name, pages, and answers [] past the end', async (t) => {
    const s = await startCas(t);
    const a = await createGroup(s.cas);
    s.clock.advance(1000);
    const b = await createGroup(s.cas);
    s.clock.advance(1000);
    const c = await createGroup(s.cas);
    const all = await s.cas.get('/config-groups');
    assert.equal(all.status, 200, all.text);
    assert.equal(all.body.count, 3);
    assert.deepEqual(all.body.config_groups.map((g: any) => g.id), [c.id, b.id, a.id]);
    const asc = await s.cas.get('/config-groups?order=asc&limit=2&offset=1');
    assert.deepEqual(asc.body.config_groups.map((g: any) => g.id), [b.id, c.id]);
    assert.equal(asc.body.count, 3);
    const named = await s.cas.get(`/config-groups?name=${b.name}`);
    assert.deepEqual(named.body, { count: 1, config_groups: [b] });
    const past = await s.cas.get('/config-groups?offset=3&limit=100');
    assert.deepEqual(past.body, { count: 3, config_groups: [] });
  });

  it('returns 400 SVCSTG.00100400 for a limit above 100', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.get('/config-groups?limit=101'), 400, 'SVCSTG.00100400', /querystring\/limit/);
  });
});

describe('GET /v3/{project}/cas/config-groups/{config_group_id}', () => {
  it('returns the group as created', async (t) => {
    const s = await startCas(t);
    const g = await createGroup(s.cas, { description: 'd' });
    const r = await s.cas.get(`/config-groups/${g.id}`);
    assert.deepEqual(r.body, g);
  });

  it('returns 404 SVCSTG.00100404 for an unknown id', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.get('/config-groups/0123456789abcdef0123456789abcdef'), 404, 'SVCSTG.00100404');
  });
});

describe('DELETE /v3/{project}/cas/config-groups/{config_group_id}', () => {
  it('deletes an empty group with 200 and an empty body; a JSON body is ignored', async (t) => {
    const s = await startCas(t);
    const g = await createGroup(s.cas);
    const r = await s.cas.delete(`/config-groups/${g.id}`, { ignored: true });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, '');
    assertCasError(await s.cas.get(`/config-groups/${g.id}`), 404, 'SVCSTG.00100404');
  });

  it('answers 200 for an unknown group (§12.2)', async (t) => {
    const s = await startCas(t);
    const r = await s.cas.delete('/config-groups/0123456789abcdef0123456789abcdef');
    assert.equal(r.status, 200, r.text);
  });

  it('refuses with 400 SVCSTG.00100402 while the group holds files, and deletes it once they are gone', async (t) => {
    const s = await startCas(t);
    const g = await createGroup(s.cas);
    const f = await s.cas.post('/configs', { config_group_id: g.id, name: 'app', content: 'a: 1', type: 'yaml' });
    assert.equal(f.status, 200, f.text);
    assertCasError(await s.cas.delete(`/config-groups/${g.id}`), 400, 'SVCSTG.00100402', /1 config file/);
    assert.equal((await s.cas.get(`/config-groups/${g.id}`)).status, 200);
    assert.equal((await s.cas.delete(`/configs/${f.body.id}`)).status, 200);
    assert.equal((await s.cas.delete(`/config-groups/${g.id}`)).status, 200);
    assertCasError(await s.cas.get(`/config-groups/${g.id}`), 404, 'SVCSTG.00100404');
  });
});
