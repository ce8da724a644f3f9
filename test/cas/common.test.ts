import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ADMIN, signedCall } from '../helpers/iam-client.js';
import { call } from '../helpers/registry-client.js';
import { assertCasError, startCas } from '../helpers/cas-client.js';

describe('ServiceStage v3 common rules', () => {
  it('returns 401 APIGW.0301 in the Huawei body without credentials', async (t) => {
    const s = await startCas(t);
    const r = await call(s.url, 'GET', `/v3/${ADMIN.projectId}/cas/environments`);
    assertCasError(r, 401, 'APIGW.0301');
  });

  it('returns 404 SVCSTG.00100408 for an unknown path under /cas', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.get('/no-such-resource'), 404, 'SVCSTG.00100408');
  });

  it('returns 400 SVCSTG.00100400 for a path the router cannot decode', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.get('/%zz'), 400, 'SVCSTG.00100400');
  });

  it('returns 400 SVCSTG.00100400 for a body that is not JSON', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.post('/environments', '{"name":'), 400, 'SVCSTG.00100400', /JSON/);
  });

  it('accepts an AK/SK signed call', async (t) => {
    const s = await startCas(t);
    const r = await signedCall(s.url, 'GET', `/v3/${ADMIN.projectId}/cas/no-such-resource`, { dateMs: s.clock.now() });
    assertCasError(r, 404, 'SVCSTG.00100408');
  });

  it('refuses a project the caller is not a member of with 403 APIGW.0302', async (t) => {
    const s = await startCas(t);
    const r = await call(s.url, 'GET', `/v3/ffffffffffffffffffffffffffffffff/cas/environments`, { headers: { 'x-auth-token': s.cas.token } });
    assert.ok(r.status === 403 || r.status === 401, r.text);
    assert.match(r.body.error_code, /^APIGW\.030[12]$/);
  });
});
