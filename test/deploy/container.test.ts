import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it, type TestContext } from 'node:test';
import { LABEL, containerName } from '../../src/deploy/container/driver.js';
import { localImageName } from '../../src/deploy/container/runtime.js';
import type { ContainerArtifact, Release } from '../../src/deploy/runtime.js';
import type { ComponentPlan } from '../../src/deploy/types.js';
import { busyboxContext, removePodmanDirs, waitForHttp } from '../helpers/container.js';
import { imagePlan, openTestContainerRuntime, TEST_UID_BASE, type TestContainerRuntime } from '../helpers/container-runtime.js';
import { startRegistry, type TestRegistry } from '../helpers/oci-registry.js';
import { freshDatabase } from '../helpers/server.js';

/**
 * The container runtime (src/deploy/container) against real podman, a real registry on
 * loopback and the suite's database: image components and Dockerfile builds, every roll-out
 * action, supervision, adoption after SIGKILL, delete.
 */

const HOST_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };

/** Where runtimes of one test run: data dir, database, and the runtimes to close first. */
interface Environment {
  dataDir: string;
  db: string;
  closers: (() => Promise<void>)[];
}

/**
 * A data dir and database for the runtimes of one test, removed when the test ends: the
 * runtimes are closed first (their replicas stopped: a supervised container removed from under
 * its runtime would be started again), then whatever is left in the store.
 */
async function environment(t: TestContext): Promise<Environment> {
  const dataDir = mkdtempSync(join(tmpdir(), 'openstage-ctr-'));
  const database = await freshDatabase();
  const closers: (() => Promise<void>)[] = [];
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    // Whatever a failed test left running goes first: a mounted container would keep its files.
    const env = { ...HOST_ENV, CONTAINERS_CONF: join(dataDir, 'containers', 'containers.conf'), CONTAINERS_STORAGE_CONF: join(dataDir, 'containers', 'storage.conf') };
    if (existsSync(env.CONTAINERS_CONF)) {
      try {
        execFileSync('podman', ['rm', '--all', '--force', '--time', '0'], { env, stdio: 'ignore' });
      } catch {
        // nothing to remove
      }
    }
    await removePodmanDirs(join(dataDir, 'containers'));
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    await database.drop();
  });
  return { dataDir, db: database.db, closers };
}

/** Opens a runtime and closes it when the test ends (its replicas stopped). */
async function runtimeFor(env: Environment, registry?: TestRegistry, readyTimeoutMs?: number): Promise<TestContainerRuntime> {
  const r = await openTestContainerRuntime(env.dataDir, env.db, { ...(registry ? { insecureRegistries: [registry.host] } : {}), projects: ['p-container', 'p-other'], ...(readyTimeoutMs ? { readyTimeoutMs } : {}) });
  env.closers.push(async () => {
    await r.runtime.shutdown(true).catch(() => undefined);
    await r.db.close().catch(() => undefined);
  });
  return r;
}

/** Builds the busybox web image answering `index` and pushes it to the registry as `<registry>/team/web:<tag>`. */
async function pushWeb(t: TestContext, r: TestContainerRuntime, registry: TestRegistry, tag: string, index: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'openstage-ctx-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  busyboxContext(dir, { index });
  const local = `localhost/test/web-src:${tag}`;
  const signal = new AbortController().signal;
  await r.podman.build({ contextDir: dir, tag: local, logFile: join(dir, 'build.log'), signal });
  const remote = `${registry.host}/team/web:${tag}`;
  await r.podman.push({ image: local, destination: remote, credentials: { username: registry.username, password: registry.password }, signal, logFile: join(dir, 'push.log') });
  assert.equal(await r.podman.removeImage(local), 'removed');
  return remote;
}

/** The body of every ready replica's `path`, in replica order. */
async function answers(r: TestContainerRuntime, plan: ComponentPlan, path: string): Promise<string[]> {
  const out: string[] = [];
  for (const replica of r.runtime.replicas(plan.project, plan.componentId)) out.push(await waitForHttp(replica.port, path));
  return out;
}

/** Waits until `check` holds, polling every 100 ms. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.fail(`timed out waiting until ${what}`);
}

/** Replica containers of a component in podman's store (running or not). */
async function containersOf(r: TestContainerRuntime, plan: ComponentPlan) {
  return r.podman.list({ [LABEL.project]: plan.project, [LABEL.component]: plan.componentId });
}

// One database: npm test runs this file on SQLite only (scripts/run-tests.mjs). It tests
// podman containers and images; nothing here depends on the store.
describe('container runtime', () => {
  it('runs an image component with its env and config file; scales, upgrades, rolls back to the stored image, replaces a killed container, stops and deletes leaving nothing', async (t) => {
    const registry = await startRegistry(t);
    const r = await runtimeFor(await environment(t), registry);
    const v1Url = await pushWeb(t, r, registry, '1.0', 'v1');
    const v2Url = await pushWeb(t, r, registry, '2.0', 'v2');
    const credentials = { username: registry.username, password: registry.password };
    const v1 = imagePlan('1.0.0', v1Url, { credentials });
    const v2 = imagePlan('2.0.0', v2Url, { credentials, env: { GREETING: 'hello from 2.0.0' } });
    const { project, componentId } = v1;

    // Create: pulled with the credentials, named as the component's version, one replica.
    const r1 = await r.release(v1);
    const a1 = r1.artifact as ContainerArtifact;
    assert.equal(a1.image, 'localhost/shop/web:1.0.0');
    assert.match(a1.imageId ?? '', /^[0-9a-f]{64}$/);
    assert.deepEqual((await r.podman.inspectImage(a1.image))?.names, ['localhost/shop/web:1.0.0'], 'the pulled reference no longer names it');
    await r.runtime.rollout(r1, { target: 1, batches: [1] }, r.ctx(project));
    const [first] = r.runtime.replicas(project, componentId);
    assert.ok(first?.ready);
    assert.equal(first.version, '1.0.0');
    const env = (await waitForHttp(first.port, '/cgi-bin/env')).split('\n');
    for (const line of ['GREETING=hello from 1.0.0', `PORT=${first.port}`, `CAS_INSTANCE_ID=${first.instanceId}`, 'CAS_INSTANCE_VERSION=1.0.0']) assert.ok(env.includes(line), `${line} in\n${env.join('\n')}`);
    assert.ok(!env.some((l) => l.startsWith('HOME=/root')), 'nothing of the host environment');
    assert.equal(await waitForHttp(first.port, '/cgi-bin/cat?/etc/app/app.yaml'), `instance: ${first.instanceId}\nport: ${first.port}\n`);
    // Confined: the container's root is the project's own unprivileged host uid range.
    const info = await r.podman.inspect(containerName(first.instanceId));
    assert.deepEqual(info?.uidMap, [[0, TEST_UID_BASE, 65536]]);
    assert.equal(info?.memoryBytes, 256 * 1024 * 1024);
    assert.equal(info?.cpus, 0.5);
    assert.equal(info?.noNewPrivileges, true);
    assert.equal(info?.labels[LABEL.version], '1.0.0');

    // Scale to 3.
    await r.runtime.scale(r1, 3, r.ctx(project));
    assert.equal(r.runtime.replicas(project, componentId).length, 3);
    assert.deepEqual(await answers(r, v1, '/index.html'), ['v1', 'v1', 'v1']);
    assert.equal((await containersOf(r, v1)).filter((c) => c.running).length, 3);

    // Rolling upgrade to a new image, one replica per batch.
    const r2 = await r.release(v2);
    await r.runtime.rollout(r2, { target: 3, batches: [1, 1, 1] }, r.ctx(project));
    assert.deepEqual(r.runtime.replicas(project, componentId).map((x) => x.version), ['2.0.0', '2.0.0', '2.0.0']);
    assert.deepEqual(await answers(r, v2, '/index.html'), ['v2', 'v2', 'v2']);
    assert.deepEqual((await containersOf(r, v1)).map((c) => c.labels[LABEL.version]), ['2.0.0', '2.0.0', '2.0.0'], 'the old containers are gone');

    // Rollback runs the stored image: the registry is not asked (it is gone).
    await r.podman.removeImage(`${registry.host}/team/web:1.0`).catch(() => undefined);
    registry.stop();
    assert.equal(await r.runtime.hasArtifact(r1.artifact), true);
    await r.runtime.rollout(r1, { target: 3, batches: [3] }, r.ctx(project));
    assert.deepEqual(await answers(r, v1, '/index.html'), ['v1', 'v1', 'v1']);
    assert.deepEqual(await answers(r, v1, '/cgi-bin/env').then((bodies) => bodies.map((b) => b.split('\n').find((l) => l.startsWith('GREETING=')))), ['GREETING=hello from 1.0.0', 'GREETING=hello from 1.0.0', 'GREETING=hello from 1.0.0']);

    // `podman kill` of one container: supervision starts it again; nothing is duplicated.
    const victim = r.runtime.replicas(project, componentId)[1]!;
    execFileSync('podman', ['kill', containerName(victim.instanceId)], { env: { ...HOST_ENV, CONTAINERS_CONF: join(r.dataDir, 'containers', 'containers.conf'), CONTAINERS_STORAGE_CONF: join(r.dataDir, 'containers', 'storage.conf') } });
    await until('the killed replica runs again', () => {
      const now = r.runtime.replicas(project, componentId).find((x) => x.instanceId === victim.instanceId);
      return !!now && now.state === 'running' && now.restarts === 1;
    });
    const replaced = r.runtime.replicas(project, componentId).find((x) => x.instanceId === victim.instanceId)!;
    assert.deepEqual(replaced.lastExit, { code: null, signal: 'SIGKILL' });
    assert.equal(await waitForHttp(replaced.port, '/index.html'), 'v1');
    assert.equal((await containersOf(r, v1)).length, 3);

    // Stop: every container ends (SIGTERM honoured: not killed) and is removed.
    const outcome = await r.runtime.stopAll(project, componentId, r.ctx(project));
    assert.deepEqual(outcome, { stopped: 3, killed: 0 });
    assert.deepEqual(r.runtime.replicas(project, componentId), []);
    assert.deepEqual(await containersOf(r, v1), []);

    // Delete: the component's images go; nothing is left in the store.
    await r.runtime.removeArtifacts(project, componentId, [r1.artifact, r2.artifact]);
    assert.deepEqual(await r.podman.listImages(), []);
    assert.deepEqual(await r.podman.list({}), []);
    assert.equal(await r.runtime.hasArtifact(r1.artifact), false);
  });

  it('takes over its containers after the runtime\'s process is killed with SIGKILL: none duplicated, a dead one started again, an unaccounted one removed', async (t) => {
    const registry = await startRegistry(t);
    const env = await environment(t);
    const seed = await runtimeFor(env, registry);
    const url = await pushWeb(t, seed, registry, '1.0', 'adopted');
    await seed.close();
    const plan = imagePlan('1.0.0', url, { credentials: { username: registry.username, password: registry.password } });

    // A runtime in a process of its own deploys 3 replicas, then is killed.
    const child = spawn(process.execPath, [new URL('../helpers/container-runtime-child.js', import.meta.url).pathname, env.dataDir, env.db, JSON.stringify(plan), '3', registry.host], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => child.kill('SIGKILL'));
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the runtime process exited with ${code}`)));
    });
    const { artifact, instanceIds } = JSON.parse(line) as { artifact: ContainerArtifact; instanceIds: string[] };
    assert.equal(instanceIds.length, 3);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    // While nobody supervises: one container dies, and one appears that no record accounts for.
    const r = await runtimeFor(env, registry);
    await r.podman.kill(containerName(instanceIds[0]!));
    await r.podman.run({ name: containerName('stray000000000000000'), image: artifact.imageId!, labels: { [LABEL.managed]: 'true', [LABEL.instance]: 'stray000000000000000', [LABEL.project]: plan.project, [LABEL.component]: plan.componentId }, env: {}, mounts: [], stopGraceSeconds: 1, command: ['/bin/sh', '-c', 'sleep 600'] });

    const release: Release = { plan, artifact };
    await r.runtime.adopt(async (project, componentId, version) => (project === plan.project && componentId === plan.componentId && version === plan.version ? release : undefined));
    const replicas = r.runtime.replicas(plan.project, plan.componentId);
    assert.deepEqual(replicas.map((x) => x.instanceId).sort(), [...instanceIds].sort(), 'the same replicas');
    await until('every replica runs', () => r.runtime.replicas(plan.project, plan.componentId).every((x) => x.state === 'running'));
    assert.deepEqual(await answers(r, plan, '/index.html'), ['adopted', 'adopted', 'adopted']);
    const containers = await containersOf(r, plan);
    assert.deepEqual(containers.map((c) => c.labels[LABEL.instance]).sort(), [...instanceIds].sort(), 'one container per replica, the stray one removed');
    assert.ok(containers.every((c) => c.running));
  });

  it('builds a Docker-stack component from the repository\'s Dockerfile at dockerfile_path', async (t) => {
    const r = await runtimeFor(await environment(t));
    const repo = mkdtempSync(join(tmpdir(), 'openstage-repo-'));
    t.after(() => rmSync(repo, { recursive: true, force: true }));
    busyboxContext(repo, { index: 'built from git', dockerfileName: 'app.Dockerfile' });
    const git = { ...HOST_ENV, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: repo, env: git });
    execFileSync('git', ['add', '.'], { cwd: repo, env: git });
    execFileSync('git', ['commit', '-q', '-m', 'init'], { cwd: repo, env: git });
    const plan = imagePlan('2024.1205.1200', '', { source: { kind: 'code', repo_url: `file://${repo}`, repo_ref: 'main' }, dockerfilePath: 'app.Dockerfile', componentName: 'Built_Web', applicationName: 'Shop' });
    const release = await r.release(plan);
    const artifact = release.artifact as ContainerArtifact;
    assert.equal(artifact.image, 'localhost/shop/built-web:2024.1205.1200');
    assert.equal(localImageName(plan), artifact.image);
    assert.equal((await r.podman.inspectImage(artifact.image))?.id, artifact.imageId);
    await r.runtime.rollout(release, { target: 1, batches: [1] }, r.ctx(plan.project));
    assert.deepEqual(await answers(r, plan, '/index.html'), ['built from git']);
    assert.ok(r.messages.some((m) => m.includes('building localhost/shop/built-web:2024.1205.1200 from app.Dockerfile')), r.messages.join('\n'));

    const missing = imagePlan('2.0.0', '', { source: { kind: 'code', repo_url: `file://${repo}`, repo_ref: 'main' } });
    await assert.rejects(r.release(missing), /no Dockerfile at 'Dockerfile'/);
  });

  it('fails a pull clearly: wrong credentials, an unknown image, a local name, a bad reference — with no secret in the message', async (t) => {
    const registry = await startRegistry(t);
    const r = await runtimeFor(await environment(t), registry);
    const url = await pushWeb(t, r, registry, '1.0', 'x');
    await assert.rejects(r.release(imagePlan('1.0.0', url, { credentials: { username: registry.username, password: 'not-the-password' } })), (err: Error) => {
      assert.match(err.message, new RegExp(`cannot pull ${url.replace(/[.]/g, '\\.')}`));
      assert.match(err.message, /unauthorized|authentication required|invalid username\/password/i);
      assert.doesNotMatch(err.message, /not-the-password/);
      return true;
    });
    await assert.rejects(r.release(imagePlan('1.0.0', url)), /cannot pull .*(unauthorized|authentication required)/is);
    await assert.rejects(r.release(imagePlan('1.0.0', `${registry.host}/team/none:1`, { credentials: { username: registry.username, password: registry.password } })), /cannot pull .*(manifest unknown|not found)/is);
    await assert.rejects(r.release(imagePlan('1.0.0', 'localhost/shop/web:1.0.0')), /names this host's local image store/);
    await assert.rejects(r.release(imagePlan('1.0.0', 'Not/Valid')), /is not an image reference/);
    assert.deepEqual(await r.podman.listImages(), []);
  });

  it('fails a roll-out whose container exits, with its exit code and log, and keeps the running version', async (t) => {
    const registry = await startRegistry(t);
    const r = await runtimeFor(await environment(t), registry);
    const url = await pushWeb(t, r, registry, '1.0', 'stable');
    const credentials = { username: registry.username, password: registry.password };
    const good = await r.release(imagePlan('1.0.0', url, { credentials }));
    await r.runtime.rollout(good, { target: 1, batches: [1] }, r.ctx('p-container'));
    const bad = await r.release(imagePlan('1.0.1', url, { credentials, command: { command: ['/bin/sh', '-c', 'echo cannot start: missing DB_URL >&2; exit 3'] } }));
    await assert.rejects(r.runtime.rollout(bad, { target: 1, batches: [1] }, r.ctx('p-container')), (err: Error) => {
      assert.match(err.message, /exited before it was ready \(exit code 3\)/);
      assert.match(err.message, /cannot start: missing DB_URL/);
      return true;
    });
    const left = r.runtime.replicas('p-container', 'comp-web');
    assert.deepEqual(left.map((x) => x.version), ['1.0.0']);
    assert.equal(await waitForHttp(left[0]!.port, '/index.html'), 'stable');
    assert.deepEqual((await r.podman.list({ [LABEL.component]: 'comp-web' })).map((c) => c.labels[LABEL.version]), ['1.0.0'], 'the failed container was removed');
  });

  it('gray release: the first batch runs beside the old replicas until the roll-out continues; a command readiness probe runs inside the container', async (t) => {
    const registry = await startRegistry(t);
    const r = await runtimeFor(await environment(t), registry, 15_000);
    const v1 = await pushWeb(t, r, registry, '1.0', 'one');
    const v2 = await pushWeb(t, r, registry, '2.0', 'two');
    const credentials = { username: registry.username, password: registry.password };
    const probe = { type: 'command' as const, command: ['/bin/sh', '-c', 'test -f /etc/app/app.yaml'] };
    const r1 = await r.release(imagePlan('1.0.0', v1, { credentials, readinessProbe: probe }));
    await r.runtime.rollout(r1, { target: 2, batches: [2] }, r.ctx('p-container'));
    const r2 = await r.release(imagePlan('2.0.0', v2, { credentials, readinessProbe: probe }));
    const gray = r.ctx('p-container');
    await r.runtime.rollout(r2, { target: 2, batches: [1], keepOld: true }, gray);
    assert.deepEqual(r.runtime.replicas('p-container', 'comp-web').map((x) => x.version).sort(), ['1.0.0', '2.0.0'], 'one new replica beside one old');
    await r.runtime.rollout(r2, { target: 2, batches: [1] }, gray);
    assert.deepEqual(r.runtime.replicas('p-container', 'comp-web').map((x) => x.version), ['2.0.0', '2.0.0']);
    assert.deepEqual(await answers(r, imagePlan('2.0.0', v2), '/index.html'), ['two', 'two']);
    const bad = await r.release(imagePlan('3.0.0', v2, { credentials, readinessProbe: { type: 'command', command: ['/bin/sh', '-c', 'test -f /nope'], timeout: 1 } }));
    await assert.rejects(r.runtime.rollout(bad, { target: 2, batches: [1] }, r.ctx('p-container')), /was not ready after/);
  });
});
