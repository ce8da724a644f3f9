import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { freePort } from './container.js';

/**
 * A real OCI registry on loopback for the container tests: the distribution project's
 * `registry` (built once from the Go module proxy by scripts/oci-registry.sh, cached like CI's
 * other tools), serving TLS with a throw-away self-signed certificate and requiring Basic
 * credentials from an htpasswd file.
 */

const ROOT = resolve(new URL('../../..', import.meta.url).pathname);

/** The test registry's credentials (bcrypt below is of this password, cost 4). */
export const REGISTRY_USER = 'openstage-test';
export const REGISTRY_PASSWORD = 's3cret-pull-pass';
const HTPASSWD = `${REGISTRY_USER}:$2b$04$PlRoJofu9gj5SYO89Q254uQ3QLofGqegqM3WpRxGsOHhRnNXd76AC\n`;

/** A running test registry. */
export interface TestRegistry {
  /** `127.0.0.1:<port>`: the registry part of image references. */
  host: string;
  username: string;
  password: string;
  /** Directory of its storage, config and log. */
  dir: string;
  /** Kills it (SIGKILL): from then on every pull from it fails. */
  stop(): void;
}

let binary: string | undefined;

/** The registry binary, built on first use (minutes on a fresh machine; .ci/run builds it beforehand). */
function registryBinary(): string {
  binary ??= execFileSync('bash', [join(ROOT, 'scripts', 'oci-registry.sh'), 'build'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 30 * 60_000 }).trim().split('\n').pop()!;
  return binary;
}

/** GET https://<host>/v2/ trusting only `ca`. @returns the status, or undefined when nothing answers */
function probe(host: string, ca: string): Promise<number | undefined> {
  const [hostname, port] = host.split(':');
  return new Promise((resolvePromise) => {
    const req = request({ hostname, port: Number(port), path: '/v2/', method: 'GET', ca, timeout: 2000 }, (res) => {
      res.resume();
      resolvePromise(res.statusCode);
    });
    req.once('error', () => resolvePromise(undefined));
    req.once('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * Starts a registry on a free loopback port (retried on another port when it is taken in
 * between); stopped and removed when the test ends.
 * @throws Error with the registry's log when it does not answer within 60 s
 */
export async function startRegistry(t: TestContext): Promise<TestRegistry> {
  const bin = registryBinary();
  const dir = mkdtempSync(join(tmpdir(), 'openstage-registry-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  writeFileSync(join(dir, 'htpasswd'), HTPASSWD);
  const ca = readFileSync(join(dir, 'cert.pem'), 'utf8');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    writeFileSync(
      join(dir, 'config.yml'),
      [
        'version: 0.1',
        'log:',
        '  level: warn',
        '  accesslog:',
        '    disabled: true',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(dir, 'data')}`,
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: ${host}`,
        '  tls:',
        `    certificate: ${join(dir, 'cert.pem')}`,
        `    key: ${join(dir, 'key.pem')}`,
        'auth:',
        '  htpasswd:',
        '    realm: openstage-test',
        `    path: ${join(dir, 'htpasswd')}`,
        '',
      ].join('\n'),
    );
    const log = openSync(join(dir, 'registry.log'), 'a');
    const child = spawn(bin, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', log, log], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    t.after(() => {
      if (!exited) child.kill('SIGKILL');
    });
    const deadline = Date.now() + 60_000;
    while (!exited && Date.now() < deadline) {
      // 401: it answers and asks for the credentials.
      if ((await probe(host, ca)) === 401) return { host, username: REGISTRY_USER, password: REGISTRY_PASSWORD, dir, stop: () => void child.kill('SIGKILL') };
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!exited) {
      child.kill('SIGKILL');
      break;
    }
  }
  throw new Error(`the test registry did not start:\n${readFileSync(join(dir, 'registry.log'), 'utf8').slice(-2000)}`);
}
