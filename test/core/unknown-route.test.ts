import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCasError, startCas } from '../helpers/cas-client.js';
import { ADMIN } from '../helpers/iam-client.js';
import { call } from '../helpers/registry-client.js';

// Issue #18 items 10, 13 and 16: what the Huawei SDKs and the Terraform provider meet on
// paths and bodies the areas do not expect.

describe('unknown routes', () => {
  const huawei: [string, string][] = [
    ['GET', `/v2/${ADMIN.projectId}/nosuch/metadata/nothing`],
    ['DELETE', `/v2/${ADMIN.projectId}/nosuch/thing`],
    ['PUT', `/v1/${ADMIN.projectId}/nosuch`],
    ['POST', `/v3/${ADMIN.projectId}/nosuch/x`],
  ];
  for (const [method, path] of huawei) {
    it(`answers ${method} ${path.replace(ADMIN.projectId, '{p}')} with 404 APIGW.0101 in the Huawei format, even with an empty JSON body`, async (t) => {
      const s = await startCas(t);
      const r = await call(s.url, method, path, { headers: { 'content-type': 'application/json', 'x-auth-token': s.cas.token } });
      assertCasError(r, 404, 'APIGW.0101', new RegExp(`${method} /`));
    });
  }

  it('answers areas\' own unknown paths in their formats: ServiceStage SVCSTG.00100408, engines SVCSTG.00500404, Keystone 404', async (t) => {
    const s = await startCas(t);
    const headers = { 'content-type': 'application/json', 'x-auth-token': s.cas.token };
    assertCasError(await call(s.url, 'DELETE', `/v3/${ADMIN.projectId}/cas/nosuch`, { headers }), 404, 'SVCSTG.00100408');
    assertCasError(await call(s.url, 'GET', `/v2/${ADMIN.projectId}/cas/metadata/nothing`, { headers }), 404, 'SVCSTG.00100408');
    assertCasError(await call(s.url, 'PUT', `/v2/${ADMIN.projectId}/enginemgr/nosuch`, { headers }), 404, 'SVCSTG.00500404');
    const keystone = await call(s.url, 'GET', '/v3/auth/nosuch', { headers });
    assert.equal(keystone.status, 404, keystone.text);
    assert.equal(keystone.body.error.code, 404);
    assert.equal(keystone.body.error_code, 'IAM.0004');
  });

  it('keeps the service center\'s text 404 for registry-style paths (servicecomb.md §0)', async (t) => {
    const s = await startCas(t);
    const r = await call(s.url, 'POST', '/v4/default/nosuch', { headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 404);
    assert.equal(r.text, '404 page not found');
  });
});

describe('GET /v3/auth/domains', () => {
  it('lists the caller\'s domain (the Terraform provider asks on every start), 401 without credentials', async (t) => {
    const s = await startCas(t);
    const r = await call(s.url, 'GET', '/v3/auth/domains', { headers: { 'x-auth-token': s.cas.token } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.domains.length, 1);
    assert.equal(typeof r.body.domains[0].id, 'string');
    assert.ok(r.body.domains[0].id.length > 0);
    assert.equal(r.body.domains[0].enabled, true);
    assert.equal((await call(s.url, 'GET', '/v3/auth/domains')).status, 401);
  });
});

describe('enterprise_project_id ""', () => {
  it('means the default enterprise project on environments, applications and config groups (Terraform always sends it)', async (t) => {
    const s = await startCas(t);
    const env = await s.cas.post('/environments', { name: 'eps-env', vpc_id: 'vpc-1', deploy_mode: 'virtualmachine', enterprise_project_id: '' });
    assert.equal(env.status, 200, env.text);
    assert.equal(env.body.enterprise_project_id, '0');
    const app = await s.cas.post('/applications', { name: 'eps-app', enterprise_project_id: '' });
    assert.equal(app.status, 200, app.text);
    assert.equal(app.body.enterprise_project_id, '0');
    const modified = await s.cas.put(`/applications/${app.body.id}`, { name: 'eps-app2', enterprise_project_id: '' });
    assert.equal(modified.status, 200, modified.text);
    assert.equal(modified.body.enterprise_project_id, '0');
    const group = await s.cas.post('/config-groups', { name: 'eps-group', enterprise_project_id: '' });
    assert.equal(group.status, 200, group.text);
    assertCasError(await s.cas.post('/applications', { name: 'eps-bad', enterprise_project_id: 'a b' }), 400, 'SVCSTG.00100400');
  });
});
