import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { startServer } from '../helpers/server.js';

const run = promisify(execFile);

interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  strangerCert: string;
  strangerKey: string;
}

/** A CA, a server certificate for 127.0.0.1 and client certificates (one from another CA), made with the openssl CLI. */
function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'openstage-tls-'));
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ca = (name: string): void => ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
  const leaf = (name: string, issuer: string, ext: string): void => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  };
  ca('ca');
  ca('other-ca');
  leaf('server', 'ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'ca', 'extendedKeyUsage=clientAuth\n');
  leaf('stranger', 'other-ca', 'extendedKeyUsage=clientAuth\n');
  const p = (f: string): string => join(dir, f);
  return { dir, ca: p('ca.crt'), serverCert: p('server.crt'), serverKey: p('server.key'), clientCert: p('client.crt'), clientKey: p('client.key'), strangerCert: p('stranger.crt'), strangerKey: p('stranger.key') };
}

/** GET over HTTPS with node:https, trusting `ca`, optionally with a client certificate. */
function httpsGet(url: string, pki: Pki, client?: { cert: string; key: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(pki.ca), ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}), agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS (issue #15)', () => {
  let pki: Pki;
  before(() => {
    pki = makePki();
    process.on('exit', () => rmSync(pki.dir, { recursive: true, force: true }));
  });
  const tls = () => ({ 'tls.certFile': pki.serverCert, 'tls.keyFile': pki.serverKey });

  it('serves HTTPS only with a certificate and key: node:https and curl succeed, plain HTTP gets no answer', async (t) => {
    const srv = await startServer(t, tls());
    assert.match(srv.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const version = await httpsGet(`${srv.url}/version`, pki);
    assert.equal(version.status, 200);
    assert.equal(JSON.parse(version.body).apiVersion, '4.0.0');
    const curl = await run('curl', ['-s', '--cacert', pki.ca, '-o', '/dev/null', '-w', '%{http_code} %{ssl_verify_result}', `${srv.url}/v4/default/registry/microservices`]);
    assert.equal(curl.stdout, '200 0');
    await assert.rejects(fetch(srv.url.replace('https:', 'http:') + '/version'));
    const health = JSON.parse((await httpsGet(`${srv.url}/health`, pki)).body);
    assert.deepEqual(health.instances[0].endpoints, [`rest://127.0.0.1:${new URL(srv.url).port}?sslEnabled=true`]);
  });

  it('with clientAuth registry, the ServiceComb APIs need a client certificate from caFile (401 401001) and the others do not', async (t) => {
    const srv = await startServer(t, { ...tls(), 'tls.caFile': pki.ca, 'tls.clientAuth': 'registry' });
    const registry = `${srv.url}/v4/default/registry/microservices`;
    const refused = await httpsGet(registry, pki);
    assert.equal(refused.status, 401);
    assert.equal(JSON.parse(refused.body).errorCode, '401001');
    const stranger = await httpsGet(registry, pki, { cert: pki.strangerCert, key: pki.strangerKey });
    assert.equal(stranger.status, 401, 'a certificate from another CA is refused');
    assert.equal((await httpsGet(registry, pki, { cert: pki.clientCert, key: pki.clientKey })).status, 200);
    const kie = await httpsGet(`${srv.url}/v1/default/kie/kv`, pki);
    assert.equal(JSON.parse(kie.body).errorCode, '401001');
    const curl = await run('curl', ['-s', '--cacert', pki.ca, '--cert', pki.clientCert, '--key', pki.clientKey, '-o', '/dev/null', '-w', '%{http_code}', registry]);
    assert.equal(curl.stdout, '200');
    // The IAM API (and the other Huawei-style APIs) stay one-way TLS: its own 401, not the certificate's.
    const iam = await httpsGet(`${srv.url}/v3/auth/projects`, pki);
    assert.equal(iam.status, 401);
    assert.equal(JSON.parse(iam.body).error_code, 'APIGW.0301');
  });

  it('with clientAuth all, the handshake refuses a client without a certificate', async (t) => {
    const srv = await startServer(t, { ...tls(), 'tls.caFile': pki.ca, 'tls.clientAuth': 'all' });
    await assert.rejects(httpsGet(`${srv.url}/version`, pki));
    const curl = await run('curl', ['-s', '--cacert', pki.ca, '-o', '/dev/null', '-w', '%{http_code}', `${srv.url}/version`]).catch((err: { code: number }) => ({ stdout: `exit ${err.code}` }));
    assert.match(curl.stdout, /^exit \d+$|^000$/);
    assert.equal((await httpsGet(`${srv.url}/version`, pki, { cert: pki.clientCert, key: pki.clientKey })).status, 200);
  });

  it('refuses to start without a key, or with clientAuth and no caFile, naming the key', async (t) => {
    await assert.rejects(startServer(t, { 'tls.certFile': pki.serverCert }), /tls\.keyFile/);
    await assert.rejects(startServer(t, { ...tls(), 'tls.clientAuth': 'registry' }), /tls\.caFile/);
  });
});
