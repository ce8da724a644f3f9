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

  it('refuses a NUL or a lone surrogate anywhere in path, query or body with 400 naming the field, writing nothing', async (t) => {
    const s = await startCas(t);
    // PostgreSQL cannot store either (a bare 500 before); SQLite silently mangled the surrogate.
    const cases: Array<[string, string, unknown, RegExp]> = [
      ['GET', '/environments/a%00b', undefined, /params\/environment_id must not contain a NUL/],
      ['GET', '/applications/%00', undefined, /params\/application_id must not contain a NUL/],
      ['GET', '/config-groups/%00', undefined, /params\/\w+ must not contain a NUL/],
      ['DELETE', '/configs/%00', undefined, /params\/\w+ must not contain a NUL/],
      ['GET', '/runtimestacks/%00', undefined, /params\/\w+ must not contain a NUL/],
      ['GET', '/environments?name=%00', undefined, /querystring\/name must not contain a NUL/],
      ['POST', '/applications', { name: 'nul-app', description: 'a\u0000b' }, /body\/description must not contain a NUL/],
      ['POST', '/applications', { name: 'sur-app', description: 'a\ud800b' }, /body\/description is not valid Unicode/],
      ['POST', '/environments', { name: 'nul-env', labels: [{ key: 'k', value: '\udfff' }] }, /body\/labels\/0\/value is not valid Unicode/],
      ['POST', '/config-groups', { name: 'nul-group', description: '\u0000' }, /body\/description must not contain a NUL/],
      ['POST', '/runtimestacks', { name: 'nul-stack', deploy_mode: 'virtualmachine', type: 'Java', version: '1.0.0', description: '\u0000' }, /body\/description must not contain a NUL/],
    ];
    for (const [method, path, body, msg] of cases) {
      // JSON.stringify escapes lone surrogates, so the body goes out as the escaped text.
      assertCasError(await s.cas.call(method, path, body === undefined ? undefined : JSON.stringify(body), { 'content-type': 'application/json' }), 400, 'SVCSTG.00100400', msg);
    }
    assert.equal((await s.cas.get('/applications')).body.count, 0);
    assert.equal((await s.cas.get('/environments')).body.count, 0);
    assert.equal((await s.cas.get('/config-groups')).body.count, 0);
    // A paired surrogate (an emoji) is fine.
    const ok = await s.cas.post('/applications', { name: 'emoji-app', description: 'ok \u{1F600}' });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await s.cas.get(`/applications/${ok.body.id}`)).body.description, 'ok \u{1F600}');
  });

  it('names the allowed values of an enum field (body and query) in the 400', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.post('/environments', { name: 'enum-env', deploy_mode: 'weird' }), 400, 'SVCSTG.00100400', /body\/deploy_mode must be one of "virtualmachine", "container", "mixed"/);
    assertCasError(await s.cas.get('/environments?order=sideways'), 400, 'SVCSTG.00100400', /querystring\/order must be one of "desc", "asc"/);
    assert.equal((await s.cas.get('/environments')).body.count, 0);
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
