import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ComponentUsage } from '../../src/cas/types.js';
import { ADMIN } from '../helpers/iam-client.js';
import { assertCasError, CasClient, startCas, uniqName, type CasServer } from '../helpers/cas-client.js';
import { FIRST_SERVER_ONLY } from '../helpers/server.js';

const JAVA17 = '0a5e57ac-0000-4000-8000-000000000001';
const SYSTEM_TYPES = ['Java', 'Tomcat', 'Nodejs', 'Python', 'Go', 'Docker'];

function stackBody(extra: Record<string, unknown> = {}) {
  return { name: uniqName('stack'), deploy_mode: 'virtualmachine', type: 'Java', version: '1.0.1', spec: { parameters: { jdk_url: 'obs://bucket/jdk.tar.gz' } }, description: 'custom JDK', ...extra };
}

async function createStack(s: CasServer, extra: Record<string, unknown> = {}) {
  const r = await s.cas.post('/runtimestacks', stackBody(extra));
  assert.equal(r.status, 200, r.text);
  return r.body;
}

function fakeComponents(s: CasServer, usage: Partial<ComponentUsage>): void {
  const deps = s.server.cas.runtimeStacks['deps'];
  deps.components = { ...deps.components, ...usage };
}

describe('GET /v3/{project}/cas/runtimestacks', () => {
  it('lists the system stacks with stable ids under runtime_stacks and runtimestacks', async (t) => {
    const s = await startCas(t);
    const r = await s.cas.get('/runtimestacks');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.total, r.body.runtime_stacks.length);
    assert.deepEqual(r.body.runtimestacks, r.body.runtime_stacks);
    const system = r.body.runtime_stacks.filter((x: any) => x.system === 1);
    assert.deepEqual(system.map((x: any) => x.type), SYSTEM_TYPES);
    for (const x of system) {
      assert.equal(x.status, 'Supported');
      assert.equal(x.deploy_mode, x.type === 'Docker' ? 'container' : 'virtualmachine');
      assert.match(x.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.match(x.version, /^\d+\.\d+\.\d+$/);
      assert.notEqual(x.url, '');
    }
    assert.equal(system[0].id, JAVA17);
    assert.equal(system[0].name, 'OpenJDK17');
  });

  it('adds the project\'s custom stacks after the system ones', async (t) => {
    const s = await startCas(t);
    const a = await createStack(s);
    s.clock.advance(10);
    const b = await createStack(s, { type: 'Tomcat' });
    const r = await s.cas.get('/runtimestacks');
    const custom = r.body.runtime_stacks.filter((x: any) => x.system === 0);
    assert.deepEqual(custom.map((x: any) => x.id), [a.id, b.id]);
    assert.equal(r.body.total, SYSTEM_TYPES.length + 2);
  });
});

describe('GET /v3/{project}/cas/innerimages', () => {
  it('describes the base of every system stack', async (t) => {
    const s = await startCas(t);
    const r = await s.cas.get('/innerimages');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.runtime_stacks.map((x: any) => x.type), SYSTEM_TYPES);
    for (const x of r.body.runtime_stacks) assert.match(x.url, /^(process|docker):\/\//);
  });
});

describe('POST /v3/{project}/cas/runtimestacks', () => {
  it('creates a custom stack, not released (Disable), with every field', async (t) => {
    const s = await startCas(t);
    const body = stackBody();
    const r = await s.cas.post('/runtimestacks', body);
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.id, /^[0-9a-f-]{36}$/);
    assert.equal(r.body.name, body.name);
    assert.equal(r.body.deploy_mode, 'virtualmachine');
    assert.equal(r.body.type, 'Java');
    assert.equal(r.body.version, '1.0.1');
    assert.deepEqual(r.body.spec, body.spec);
    assert.equal(r.body.description, 'custom JDK');
    assert.equal(r.body.system, 0);
    assert.equal(r.body.status, 'Disable');
    assert.equal(r.body.creator, ADMIN.name);
    assert.equal(r.body.project_id, ADMIN.projectId);
    assert.equal(r.body.component_count, 0);
    assert.equal(r.body.create_time, s.clock.now());
  });

  it('accepts names with / and the types OpenStage runs', async (t) => {
    const s = await startCas(t);
    for (const type of SYSTEM_TYPES) {
      const r = await s.cas.post('/runtimestacks', stackBody({ name: `my/${type}_x-1`, type }));
      assert.equal(r.status, 200, r.text);
    }
  });

  it('returns 400 SVCSTG.00100459 for a used name, system names included', async (t) => {
    const s = await startCas(t);
    const a = await createStack(s);
    assertCasError(await s.cas.post('/runtimestacks', stackBody({ name: a.name })), 400, 'SVCSTG.00100459');
    assertCasError(await s.cas.post('/runtimestacks', stackBody({ name: 'OpenJDK17' })), 400, 'SVCSTG.00100459', /system/);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['name is missing', { name: undefined }, /name/],
    ['name is one character', { name: 'a' }, /name/],
    ['name is 65 characters', { name: 'a'.repeat(65) }, /name/],
    ['name has a space', { name: 'a b' }, /name/],
    ['deploy_mode is missing', { deploy_mode: undefined }, /deploy_mode/],
    ['deploy_mode is unknown', { deploy_mode: 'mixed' }, /deploy_mode/],
    ['type is unknown', { type: 'Php' }, /type/],
    ['type is a number', { type: 1 }, /type/],
    ['version is missing', { version: undefined }, /version/],
    ['version has two parts', { version: '1.0' }, /version/],
    ['version is a number', { version: 1 }, /version/],
    ['spec is a string', { spec: '{}' }, /spec/],
    ['a spec parameter is a number', { spec: { parameters: { jdk_url: 1 } } }, /jdk_url/],
    ['description is 513 characters', { description: 'x'.repeat(513) }, /description/],
  ];
  for (const [what, extra, field] of bad) {
    it(`returns 400 SVCSTG.00100400 and writes nothing when ${what}`, async (t) => {
      const s = await startCas(t);
      assertCasError(await s.cas.post('/runtimestacks', stackBody(extra)), 400, 'SVCSTG.00100400', field);
      assert.equal((await s.cas.get('/runtimestacks')).body.total, SYSTEM_TYPES.length);
    });
  }
});

describe('GET /v3/{project}/cas/runtimestacks/{runtimestack_id}', () => {
  it('answers system and custom stacks, 404 SVCSTG.00100404 for unknown ids', async (t) => {
    const s = await startCas(t);
    const sys = await s.cas.get(`/runtimestacks/${JAVA17}`);
    assert.equal(sys.status, 200, sys.text);
    assert.equal(sys.body.system, 1);
    assert.equal(sys.body.type, 'Java');
    const a = await createStack(s);
    assert.deepEqual((await s.cas.get(`/runtimestacks/${a.id}`)).body, a);
    assertCasError(await s.cas.get('/runtimestacks/00000000-0000-4000-8000-000000000000'), 404, 'SVCSTG.00100404');
  });
});

describe('PUT /v3/{project}/cas/runtimestacks/{runtimestack_id}', () => {
  it('changes name, version, spec and description; resent deploy_mode and type are fine', async (t) => {
    const s = await startCas(t);
    const a = await createStack(s);
    s.clock.advance(1000);
    const name = uniqName('renamed');
    const r = await s.cas.put(`/runtimestacks/${a.id}`, { name, deploy_mode: 'virtualmachine', type: 'Java', version: '1.0.2', spec: { sdk: 'jdk-17' }, description: '' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.name, name);
    assert.equal(r.body.version, '1.0.2');
    assert.deepEqual(r.body.spec, { sdk: 'jdk-17' });
    assert.equal(r.body.description, '');
    assert.equal(r.body.status, 'Disable');
    assert.equal(r.body.update_time, a.create_time + 1000);
    assert.deepEqual((await s.cas.get(`/runtimestacks/${a.id}`)).body, r.body);
  });

  it('refuses a changed deploy_mode or type with 400', async (t) => {
    const s = await startCas(t);
    const a = await createStack(s);
    assertCasError(await s.cas.put(`/runtimestacks/${a.id}`, { deploy_mode: 'container' }), 400, 'SVCSTG.00100400', /deploy_mode/);
    assertCasError(await s.cas.put(`/runtimestacks/${a.id}`, { type: 'Tomcat', version: '9.9.9' }), 400, 'SVCSTG.00100400', /type/);
    assert.equal((await s.cas.get(`/runtimestacks/${a.id}`)).body.version, '1.0.1');
  });

  it('refuses system stacks with 400 and a clear message', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.put(`/runtimestacks/${JAVA17}`, { description: 'x' }), 400, 'SVCSTG.00100400', /system stack/);
  });

  it('returns 404 for an unknown stack and 400 SVCSTG.00100459 for a used name', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.put('/runtimestacks/nope', { description: 'x' }), 404, 'SVCSTG.00100404');
    const a = await createStack(s);
    const b = await createStack(s);
    assertCasError(await s.cas.put(`/runtimestacks/${b.id}`, { name: a.name }), 400, 'SVCSTG.00100459');
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['name is bad', { name: 'a b' }, /name/],
    ['version is bad', { version: 'v1' }, /version/],
    ['deploy_mode is unknown', { deploy_mode: 'vm' }, /deploy_mode/],
    ['description is too long', { description: 'x'.repeat(513) }, /description/],
    ['spec.os is a number', { spec: { os: 7 } }, /os/],
  ];
  for (const [what, body, field] of bad) {
    it(`returns 400 SVCSTG.00100400 and changes nothing when ${what}`, async (t) => {
      const s = await startCas(t);
      const a = await createStack(s);
      assertCasError(await s.cas.put(`/runtimestacks/${a.id}`, body), 400, 'SVCSTG.00100400', field);
      assert.deepEqual((await s.cas.get(`/runtimestacks/${a.id}`)).body, a);
    });
  }
});

describe('DELETE /v3/{project}/cas/runtimestacks/{runtimestack_id}', () => {
  it('deletes with 204 accepting a JSON body (Terraform sends one), then 404', async (t) => {
    const s = await startCas(t);
    const a = await createStack(s);
    const r = await s.cas.delete(`/runtimestacks/${a.id}`, stackBody());
    assert.equal(r.status, 204, r.text);
    assertCasError(await s.cas.get(`/runtimestacks/${a.id}`), 404, 'SVCSTG.00100404');
    assertCasError(await s.cas.delete(`/runtimestacks/${a.id}`), 404, 'SVCSTG.00100404');
  });

  it('refuses system stacks with 400', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.delete(`/runtimestacks/${JAVA17}`), 400, 'SVCSTG.00100400', /system stack/);
  });

  it('refuses with 409 while components use the stack', { skip: FIRST_SERVER_ONLY }, async (t) => {
    const s = await startCas(t);
    const a = await createStack(s);
    fakeComponents(s, { countOnRuntimeStack: async (_p, st) => (st.name === a.name ? 3 : 0) });
    assertCasError(await s.cas.delete(`/runtimestacks/${a.id}`), 409, 'SVCSTG.00100409', /3 component/);
    assert.equal((await s.cas.get(`/runtimestacks/${a.id}`)).body.component_count, 3);
  });
});

describe('POST /v3/{project}/cas/runtimestacks/action', () => {
  it('releases (Supported) and cancels (Disable) with 204 exactly', async (t) => {
    const s = await startCas(t);
    const a = await createStack(s);
    const b = await createStack(s);
    const r = await s.cas.post('/runtimestacks/action', { action: 'Supported', parameters: { runtimestacks: [{ id: a.id }, { id: b.id }] } });
    assert.equal(r.status, 204, r.text);
    assert.equal((await s.cas.get(`/runtimestacks/${a.id}`)).body.status, 'Supported');
    assert.equal((await s.cas.get(`/runtimestacks/${b.id}`)).body.status, 'Supported');
    const d = await s.cas.post('/runtimestacks/action', { action: 'Disable', parameters: { runtimestacks: [{ id: a.id }] } });
    assert.equal(d.status, 204);
    assert.equal((await s.cas.get(`/runtimestacks/${a.id}`)).body.status, 'Disable');
    assert.equal((await s.cas.get(`/runtimestacks/${b.id}`)).body.status, 'Supported');
  });

  it('returns 400 SVCSTG.00100418 for an unknown action', async (t) => {
    const s = await startCas(t);
    const a = await createStack(s);
    assertCasError(await s.cas.post('/runtimestacks/action', { action: 'Deprecated', parameters: { runtimestacks: [{ id: a.id }] } }), 400, 'SVCSTG.00100418', /Supported/);
  });

  it('returns 404 for an unknown id and changes nothing', async (t) => {
    const s = await startCas(t);
    const a = await createStack(s);
    assertCasError(await s.cas.post('/runtimestacks/action', { action: 'Supported', parameters: { runtimestacks: [{ id: a.id }, { id: 'nope' }] } }), 404, 'SVCSTG.00100404', /nope/);
    assert.equal((await s.cas.get(`/runtimestacks/${a.id}`)).body.status, 'Disable');
  });

  it('refuses system stacks with 400', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.post('/runtimestacks/action', { action: 'Disable', parameters: { runtimestacks: [{ id: JAVA17 }] } }), 400, 'SVCSTG.00100400', /system stack/);
  });

  const bad: [string, unknown, RegExp][] = [
    ['action is missing', { parameters: { runtimestacks: [{ id: 'x' }] } }, /action/],
    ['parameters is missing', { action: 'Supported' }, /parameters/],
    ['runtimestacks is empty', { action: 'Supported', parameters: { runtimestacks: [] } }, /runtimestacks/],
    ['an id is a number', { action: 'Supported', parameters: { runtimestacks: [{ id: 1 }] } }, /id/],
  ];
  for (const [what, body, field] of bad) {
    it(`returns 400 SVCSTG.00100400 when ${what}`, async (t) => {
      const s = await startCas(t);
      assertCasError(await s.cas.post('/runtimestacks/action', body), 400, 'SVCSTG.00100400', field);
    });
  }
});

describe('runtime stacks after a restart', () => {
  it('keeps custom stacks and their status', async (t) => {
    const s = await startCas(t);
    const a = await createStack(s);
    assert.equal((await s.cas.post('/runtimestacks/action', { action: 'Supported', parameters: { runtimestacks: [{ id: a.id }] } })).status, 204);
    const s2 = await s.restart();
    const r = await new CasClient(s2.url, s.cas.token).get(`/runtimestacks/${a.id}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { ...a, status: 'Supported', update_time: r.body.update_time });
  });
});
