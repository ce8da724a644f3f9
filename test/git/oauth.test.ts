import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCasError } from '../helpers/cas-client.js';
import { json, startGit, stubServer } from './client.js';

/** A stand-in GitHub: OAuth token endpoint (code → token) and the REST API checking that token. */
async function setup(t: Parameters<typeof startGit>[0]) {
  const stub = await stubServer(t, (req, res) => {
    if (req.url === '/login/oauth/access_token') {
      const form = new URLSearchParams(req.body);
      if (form.get('client_id') === 'cid' && form.get('client_secret') === 'csecret' && form.get('code') === 'good-code') return json(res, 200, { access_token: 'gho_oauth', token_type: 'bearer', scope: 'repo' });
      return json(res, 200, { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' });
    }
    if (req.headers.authorization !== 'Bearer gho_oauth') return json(res, 401, { message: 'Bad credentials' });
    if (req.url === '/user') return json(res, 200, { login: 'octo', html_url: 'https://github.com/octo', avatar_url: 'https://a/octo.png' });
    if (req.url.startsWith('/user/orgs')) return json(res, 200, []);
    return json(res, 404, { message: 'Not Found' });
  });
  const s = await startGit(t, {
    'git.githubApiUrl': stub.base,
    'git.githubClientId': 'cid',
    'git.githubClientSecret': 'csecret',
    'git.githubAuthorizeUrl': `${stub.base}/login/oauth/authorize`,
    'git.githubTokenUrl': `${stub.base}/login/oauth/access_token`,
    'git.oauthRedirectUrl': 'https://console.example/servicestage/oauth',
  });
  return { s, stub };
}

describe('GET /v1/{p}/git/auths/{repo_type}/redirect', () => {
  it('returns the authorize URL with client_id, redirect_uri, scope and a state', async (t) => {
    const { s, stub } = await setup(t);
    const r = await s.git.call('GET', '/auths/github/redirect?tag=intl');
    assert.equal(r.status, 200, r.text);
    const url = new URL(r.body.url);
    assert.equal(`${url.origin}${url.pathname}`, `${stub.base}/login/oauth/authorize`);
    assert.equal(url.searchParams.get('client_id'), 'cid');
    assert.equal(url.searchParams.get('redirect_uri'), 'https://console.example/servicestage/oauth?repo_type=github');
    assert.ok((url.searchParams.get('state') ?? '').length >= 20);
    assert.ok(!r.text.includes('csecret'));
  });

  it('returns 400 SVCSTG.REPO.0401 when OAuth is not configured for the type', async (t) => {
    const { s } = await setup(t);
    assertCasError(await s.git.call('GET', '/auths/gitlab/redirect'), 400, 'SVCSTG.REPO.0401');
  });
});

describe('POST /v1/{p}/git/auths/{repo_type}/oauth', () => {
  it('exchanges code + state for a stored token that repository calls use; a reused state is refused', async (t) => {
    const { s } = await setup(t);
    const state = new URL((await s.git.call('GET', '/auths/github/redirect')).body.url).searchParams.get('state')!;
    const r = await s.git.call('POST', '/auths/github/oauth', { body: { name: 'gho', code: 'good-code', state } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.body.authorization.token_type, r.body.authorization.repo_user, r.body.authorization.avartar], ['oauth', 'octo', 'https://a/octo.png']);
    assert.ok(!r.text.includes('gho_oauth'));
    assert.deepEqual((await s.git.call('GET', '/repos/namespaces', { auth: 'gho' })).body, { namespaces: [{ id: 'octo', name: 'octo' }] });
    assertCasError(await s.git.call('POST', '/auths/github/oauth', { body: { name: 'gho2', code: 'good-code', state } }), 400, 'SVCSTG.REPO.0402');
    // A state is used up even by a call refused for a taken name.
    const second = new URL((await s.git.call('GET', '/auths/github/redirect')).body.url).searchParams.get('state')!;
    assertCasError(await s.git.call('POST', '/auths/github/oauth', { body: { name: 'gho', code: 'good-code', state: second } }), 400, 'SVCSTG.REPO.0403');
    assertCasError(await s.git.call('POST', '/auths/github/oauth', { body: { name: 'gho3', code: 'good-code', state: second } }), 400, 'SVCSTG.REPO.0402');
  });

  it('refuses an unknown state, an expired state and a bad code with 0402', async (t) => {
    const { s } = await setup(t);
    assertCasError(await s.git.call('POST', '/auths/github/oauth', { body: { name: 'x1', code: 'good-code', state: 'made-up' } }), 400, 'SVCSTG.REPO.0402');
    const stateOf = async () => new URL((await s.git.call('GET', '/auths/github/redirect')).body.url).searchParams.get('state')!;
    const old = await stateOf();
    s.clock.advance(601_000);
    assertCasError(await s.git.call('POST', '/auths/github/oauth', { body: { name: 'x2', code: 'good-code', state: old } }), 400, 'SVCSTG.REPO.0402');
    const fresh = await stateOf();
    assertCasError(await s.git.call('POST', '/auths/github/oauth', { body: { name: 'x3', code: 'bad-code', state: fresh } }), 400, 'SVCSTG.REPO.0402', /bad_verification_code/);
    assertCasError(await s.git.call('POST', '/auths/github/oauth', { body: { name: 'x4', state: fresh } }), 400, 'SVCSTG.REPO.0400');
  });
});
