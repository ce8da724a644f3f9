import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCasError, startCas, uniqName } from '../helpers/cas-client.js';

/**
 * Bad-input sweep over the environment bodies: each case is refused with 400
 * SVCSTG.00100400 naming the field, and nothing is written.
 */

const long = (n: number) => 'a'.repeat(n);
type Case = [label: string, body: Record<string, unknown>, field: RegExp];

const createCases: Case[] = [
  ['name missing', {}, /name/],
  ['name not a string', { name: 42 }, /name/],
  ['name too short', { name: 'a' }, /name/],
  ['name too long', { name: `a${long(64)}` }, /name/],
  ['name starting with a digit', { name: '1abc' }, /name/],
  ['name ending with -', { name: 'abc-' }, /name/],
  ['name with a dot', { name: 'ab.c' }, /name/],
  ['description too long', { description: long(129) }, /description/],
  ['description not a string', { description: 5 }, /description/],
  ['deploy_mode unknown', { deploy_mode: 'cloud' }, /deploy_mode/],
  ['type unknown', { type: 'huge' }, /type/],
  ['resource_create_mode unknown', { resource_create_mode: 'magic' }, /resource_create_mode/],
  ['vpc_id not a string', { vpc_id: 1 }, /vpc_id/],
  ['enterprise_project_id bad', { enterprise_project_id: 'a b' }, /enterprise_project_id/],
  ['labels a map', { labels: { a: 'b' } }, /labels/],
  ['label without key', { labels: [{ value: 'v' }] }, /key/],
  ['resources not a list', { resources: {} }, /resources/],
  ['resource without id', { resources: [{ type: 'cse' }] }, /id/],
  ['resource without type', { resources: [{ id: 'x' }] }, /type/],
  ['resource parameters not strings', { resources: [{ id: 'x', type: 'cse', parameters: { a: 1 } }] }, /parameters/],
  ['resource type unknown', { resources: [{ id: 'x', type: 'nacos' }] }, /type/],
];

const updateCases: Case[] = [
  ['name too long', { name: `a${long(64)}` }, /name/],
  ['name not a string', { name: ['x'] }, /name/],
  ['description too long', { description: long(129) }, /description/],
  ['labels not a list', { labels: 'a=b' }, /labels/],
  ['deploy_mode unknown', { deploy_mode: 'cloud' }, /deploy_mode/],
];

const resourcesCases: Case[] = [
  ['resources missing', {}, /resources/],
  ['resources null', { resources: null }, /resources/],
  ['id empty', { resources: [{ id: '', type: 'cse' }] }, /id/],
  ['id too long', { resources: [{ id: long(129), type: 'cse' }] }, /id/],
  ['name too long', { resources: [{ id: 'x', type: 'cse', name: long(129) }] }, /name/],
  ['type unknown', { resources: [{ id: 'x', type: 'gaussdb' }] }, /type/],
  ['parameters a list', { resources: [{ id: 'x', type: 'cse', parameters: ['a'] }] }, /parameters/],
];

const iacCases: Case[] = [
  ['name missing', { type: 'rds' }, /name/],
  ['type missing', { name: 'db' }, /type/],
  ['name too long', { name: long(65), type: 'rds' }, /name/],
  ['name not a string', { name: 1, type: 'rds' }, /name/],
  ['type unknown', { name: 'db', type: 'ccenamespace' }, /type/],
  ['custom_hcl not a string', { name: 'db', type: 'rds', custom_hcl: {} }, /custom_hcl/],
  ['vars_body a list', { name: 'db', type: 'rds', vars_body: [] }, /vars_body/],
  ['vars_structure item without var_key', { name: 'db', type: 'rds', vars_structure: [{ var_value: 'x' }] }, /var_key/],
  ['vars_structure value not a string', { name: 'db', type: 'rds', vars_structure: [{ var_key: 'k', var_value: 1 }] }, /var_value/],
  ['id with a slash', { id: 'a/b', name: 'db', type: 'rds' }, /id/],
];

describe('POST /v3/{project}/cas/environments (bad input)', () => {
  it('refuses each bad body with 400 naming the field and writes nothing', async (t) => {
    const s = await startCas(t);
    for (const [label, body, field] of createCases) {
      const name = uniqName('bad');
      const full = 'name' in body || label.startsWith('name') ? body : { name, ...body };
      assertCasError(await s.cas.post('/environments', full), 400, 'SVCSTG.00100400', field);
      const listed = await s.cas.get('/environments');
      assert.equal(listed.body.count, 0, `${label}: ${listed.text}`);
    }
  });
});

describe('PUT /v3/{project}/cas/environments/{environment_id} (bad input)', () => {
  it('refuses each bad body with 400 naming the field and changes nothing', async (t) => {
    const s = await startCas(t);
    const env = (await s.cas.post('/environments', { name: uniqName('env'), description: 'keep', labels: [{ key: 'a', value: 'b' }] })).body;
    for (const [label, body, field] of updateCases) {
      assertCasError(await s.cas.put(`/environments/${env.id}`, body), 400, 'SVCSTG.00100400', field);
      assert.deepEqual((await s.cas.get(`/environments/${env.id}`)).body, env, label);
    }
  });
});

describe('PUT /v3/{project}/cas/environments/{environment_id}/resources (bad input)', () => {
  it('refuses each bad body with 400 naming the field and changes nothing', async (t) => {
    const s = await startCas(t);
    const env = (await s.cas.post('/environments', { name: uniqName('env'), resources: [{ id: 'default', type: 'cse' }] })).body;
    for (const [label, body, field] of resourcesCases) {
      assertCasError(await s.cas.put(`/environments/${env.id}/resources`, body), 400, 'SVCSTG.00100400', field);
      assert.deepEqual((await s.cas.get(`/environments/${env.id}`)).body, env, label);
    }
  });
});

describe('POST and PUT /v3/{project}/cas/environments/{environment_id}/iac-resources (bad input)', () => {
  it('refuses each bad body with 400 naming the field and changes nothing', async (t) => {
    const s = await startCas(t);
    const env = (await s.cas.post('/environments', { name: uniqName('env') })).body;
    const added = (await s.cas.post(`/environments/${env.id}/iac-resources`, { id: 'db-1', name: 'db', type: 'rds' })).body;
    for (const [label, body, field] of iacCases) {
      assertCasError(await s.cas.post(`/environments/${env.id}/iac-resources`, body), 400, 'SVCSTG.00100400', field);
      assertCasError(await s.cas.put(`/environments/${env.id}/iac-resources/db-1`, body), 400, 'SVCSTG.00100400', field);
      assert.deepEqual((await s.cas.get(`/environments/${env.id}`)).body, added, label);
    }
  });
});
