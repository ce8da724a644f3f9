import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { PodmanError, type ContainerEvent, type Podman } from '../../../src/deploy/container/podman.js';
import { busyboxContext, freePort, testPodman, waitForHttp } from '../../helpers/container.js';
import { startRegistry } from '../../helpers/oci-registry.js';

/**
 * The podman wrapper against the real podman of the machine (OpenStage's own containers.conf:
 * runc, cgroupfs, file events), with images built FROM scratch out of busybox-static.
 */

/** Host uid/gid a container's root becomes in these tests. */
const HOST_ID = 1_300_000_000;

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'openstage-ctx-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Builds the busybox web image as `tag` in a fresh context. */
async function buildWeb(t: TestContext, podman: Podman, tag: string, opts: Parameters<typeof busyboxContext>[1] = {}): Promise<string> {
  const dir = tempDir(t);
  busyboxContext(dir, opts);
  return podman.build({ contextDir: dir, tag, logFile: join(dir, 'build.log'), signal: new AbortController().signal });
}

/** Waits until `podman.inspect(name)` satisfies `done`. */
async function waitFor(podman: Podman, name: string, done: (state: string | undefined) => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (done((await podman.inspect(name))?.state)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`container ${name} did not reach the expected state in ${timeoutMs} ms (state ${(await podman.inspect(name))?.state})`);
}

/** Uid line of a host process's status (`Uid: real effective saved fs`). */
function hostUid(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'))!;
  return Number(line.split(/\s+/)[1]);
}

describe('Podman', () => {
  it('reports its version and writes its configuration where podman reads it', async (t) => {
    const { podman, env } = testPodman(t);
    assert.match(await podman.version(), /^\d+\.\d+/);
    const conf = readFileSync(env.CONTAINERS_CONF, 'utf8');
    for (const line of ['runtime = "runc"', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', 'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]']) assert.ok(conf.includes(line), line);
    const info = JSON.parse(execFileSync('podman', ['info', '--format', 'json'], { env: { ...env, PATH: process.env.PATH } }).toString()) as {
      host: { ociRuntime: { name: string }; cgroupManager: string; eventLogger: string };
      store: { graphRoot: string };
    };
    assert.equal(info.host.ociRuntime.name, 'runc');
    assert.equal(info.host.cgroupManager, 'cgroupfs');
    assert.equal(info.host.eventLogger, 'file');
    assert.ok(info.store.graphRoot.startsWith(join(env.CONTAINERS_CONF, '..')), info.store.graphRoot);
  });

  it('refuses an invalid registry in the setup', (t) => {
    assert.throws(() => testPodman(t, { insecureRegistries: ['bad host"'] }), /not host\[:port\]/);
  });

  it('builds an image, runs it on the host network with env, a mounted file, limits, labels and a user namespace', async (t) => {
    const { podman, dir } = testPodman(t);
    const id = await buildWeb(t, podman, 'localhost/shop/web:1.0.0', { index: 'v1' });
    assert.match(id, /^[0-9a-f]{64}$/);
    const image = await podman.inspectImage('localhost/shop/web:1.0.0');
    assert.equal(image?.id, id);
    assert.deepEqual(image?.names, ['localhost/shop/web:1.0.0']);

    const port = await freePort();
    const configDir = join(tempDir(t), 'mounts');
    mkdirSync(configDir);
    writeFileSync(join(configDir, 'app.yaml'), 'greeting: hi\n', { mode: 0o444 });
    const tricky = `a b "c" 'd' $HOME \\ =x`;
    const cid = await podman.run({
      name: 'os-web-1',
      image: 'localhost/shop/web:1.0.0',
      labels: { 'io.openstage.project': 'p1', 'io.openstage.component': 'c1', 'io.openstage.version': '1.0.0', 'io.openstage.instance': 'i1' },
      env: { PORT: String(port), GREETING: tricky, EMPTY: '' },
      mounts: [{ source: join(configDir, 'app.yaml'), target: '/opt/app/config/app.yaml', readOnly: true }],
      memoryBytes: 256 * 1024 * 1024,
      cpus: 0.5,
      pidsLimit: 512,
      userns: { hostId: HOST_ID, size: 65536 },
      stopGraceSeconds: 5,
    });
    assert.match(cid, /^[0-9a-f]{64}$/);
    assert.equal(await waitForHttp(port, '/index.html'), 'v1');
    const env = await waitForHttp(port, '/cgi-bin/env');
    assert.ok(env.split('\n').includes(`GREETING=${tricky}`), env);
    assert.ok(env.split('\n').includes('EMPTY='), env);
    assert.ok(env.split('\n').includes(`PORT=${port}`), env);
    // The env file went through a private file that is gone once the container runs.
    assert.deepEqual(readdirSync(join(dir, 'containers', 'tmp', 'private')), []);

    const info = await podman.inspect('os-web-1');
    assert.ok(info);
    assert.equal(info.id, cid);
    assert.equal(info.running, true);
    assert.equal(info.labels['io.openstage.instance'], 'i1');
    assert.equal(info.memoryBytes, 256 * 1024 * 1024);
    assert.equal(info.cpus, 0.5);
    assert.equal(info.noNewPrivileges, true);
    assert.equal(info.networkMode, 'host');
    assert.deepEqual(info.uidMap, [[0, HOST_ID, 65536]]);
    assert.deepEqual(info.mounts, [{ source: join(configDir, 'app.yaml'), target: '/opt/app/config/app.yaml', readOnly: true }]);
    // The container's root is an unprivileged uid of the host.
    assert.equal(hostUid(info.pid), HOST_ID);
  });

  it('applies the setup ulimits and keeps the mounted file read-only', async (t) => {
    const { podman } = testPodman(t);
    await buildWeb(t, podman, 'localhost/a/probe:1');
    const dir = tempDir(t);
    writeFileSync(join(dir, 'conf.txt'), 'mounted\n', { mode: 0o444 });
    await podman.run({
      name: 'os-probe',
      image: 'localhost/a/probe:1',
      labels: {},
      env: {},
      mounts: [{ source: join(dir, 'conf.txt'), target: '/etc/app/conf.txt', readOnly: true }],
      command: ['/bin/sh', '-c', 'ulimit -n; ulimit -u; cat /etc/app/conf.txt; echo x >> /etc/app/conf.txt || echo refused; id -u'],
      userns: { hostId: HOST_ID, size: 65536 },
      stopGraceSeconds: 1,
    });
    await waitFor(podman, 'os-probe', (s) => s === 'exited');
    // stdout in order; the shell's error comes through stderr, another pipe: its place among
    // stdout's lines is where conmon happened to read it.
    const lines = await podman.logs('os-probe', 100);
    const stderr = lines.filter((l) => l.includes("can't create /etc/app/conf.txt"));
    assert.equal(stderr.length, 1, lines.join('\n'));
    assert.deepEqual(lines.filter((l) => !stderr.includes(l)), ['20000', '32768', 'mounted', 'refused', '0']);
    assert.equal(readFileSync(join(dir, 'conf.txt'), 'utf8'), 'mounted\n');
  });

  it('refuses a second container of the same name and leaves the first alone', async (t) => {
    const { podman } = testPodman(t);
    await buildWeb(t, podman, 'localhost/a/web:1');
    const spec = { name: 'os-dup', image: 'localhost/a/web:1', labels: { 'io.openstage.instance': 'dup' }, env: { PORT: String(await freePort()) }, mounts: [], stopGraceSeconds: 1 };
    const first = await podman.run(spec);
    await assert.rejects(podman.run(spec), (err: unknown) => err instanceof PodmanError && err.kind === 'name-in-use');
    const listed = await podman.list({ 'io.openstage.instance': 'dup' });
    assert.deepEqual(listed.map((c) => c.id), [first]);
    assert.equal(listed[0]!.running, true);
  });

  it('fails a run whose image is not local or whose entrypoint cannot start, leaving no container', async (t) => {
    const { podman } = testPodman(t);
    await buildWeb(t, podman, 'localhost/a/web:1');
    await assert.rejects(podman.run({ name: 'os-missing', image: 'localhost/a/none:1', labels: {}, env: {}, mounts: [], stopGraceSeconds: 1 }), (err: unknown) => err instanceof PodmanError && err.kind === 'not-found');
    await assert.rejects(
      podman.run({ name: 'os-badcmd', image: 'localhost/a/web:1', labels: {}, env: {}, mounts: [], entrypoint: ['/no/such/binary'], stopGraceSeconds: 1 }),
      (err: unknown) => err instanceof PodmanError && /no\/such\/binary/.test(err.message),
    );
    assert.equal(await podman.inspect('os-missing'), undefined);
    assert.equal(await podman.inspect('os-badcmd'), undefined);
  });

  it('refuses environment a container cannot carry, before creating anything', async (t) => {
    const { podman } = testPodman(t);
    const base = { image: 'localhost/a/web:1', labels: {}, mounts: [], stopGraceSeconds: 1 };
    await assert.rejects(podman.run({ ...base, name: 'os-nl', env: { CERT: 'line1\nline2' } }), /CERT holds a line break/);
    await assert.rejects(podman.run({ ...base, name: 'os-bad', env: { 'A=B': 'x' } }), /name 'A=B' is not valid/);
    await assert.rejects(podman.run({ ...base, name: 'os-mnt', env: {}, mounts: [{ source: 'relative', target: '/x', readOnly: true }] }), /absolute paths/);
    assert.deepEqual(await podman.list({}), []);
  });

  it('lists containers carrying every given label', async (t) => {
    const { podman } = testPodman(t);
    await buildWeb(t, podman, 'localhost/a/web:1');
    const run = (name: string, labels: Record<string, string>) =>
      podman.run({ name, image: 'localhost/a/web:1', labels, env: {}, mounts: [], command: ['/bin/sh', '-c', 'exit 0'], stopGraceSeconds: 1 });
    await run('os-l1', { 'io.openstage.project': 'p1', 'io.openstage.component': 'c1' });
    await run('os-l2', { 'io.openstage.project': 'p1', 'io.openstage.component': 'c2' });
    await run('os-l3', { 'io.openstage.project': 'p2', 'io.openstage.component': 'c1' });
    const names = async (labels: Record<string, string>) => (await podman.list(labels)).map((c) => c.name).sort();
    assert.deepEqual(await names({ 'io.openstage.project': 'p1', 'io.openstage.component': 'c1' }), ['os-l1']);
    assert.deepEqual(await names({ 'io.openstage.project': 'p1' }), ['os-l1', 'os-l2']);
    assert.deepEqual(await names({ 'io.openstage.component': 'c1' }), ['os-l1', 'os-l3']);
    assert.deepEqual(await names({ 'io.openstage.project': 'p3' }), []);
  });

  it('merges stdout and stderr in order in the logs and keeps the last lines', async (t) => {
    const { podman } = testPodman(t);
    await buildWeb(t, podman, 'localhost/a/web:1');
    await podman.run({
      name: 'os-logs',
      image: 'localhost/a/web:1',
      labels: {},
      env: {},
      mounts: [],
      command: ['/bin/sh', '-c', 'for i in 1 2 3 4; do echo out$i; sleep 0.05; echo err$i >&2; sleep 0.05; done; printf par; sleep 0.05; echo tial; printf end'],
      stopGraceSeconds: 1,
    });
    await waitFor(podman, 'os-logs', (s) => s === 'exited');
    assert.deepEqual(await podman.logs('os-logs', 100), ['out1', 'err1', 'out2', 'err2', 'out3', 'err3', 'out4', 'err4', 'partial', 'end']);
    assert.deepEqual(await podman.logs('os-logs', 3), ['err4', 'partial', 'end']);
    assert.deepEqual(await podman.logs('os-logs', 0), []);
    assert.deepEqual(await podman.logs('os-none', 10), []);
  });

  it('stops with the grace: a process that honours SIGTERM exits 0, one that ignores it is killed after the grace', async (t) => {
    const { podman } = testPodman(t);
    await buildWeb(t, podman, 'localhost/a/web:1');
    await podman.run({ name: 'os-polite', image: 'localhost/a/web:1', labels: {}, env: { PORT: String(await freePort()) }, mounts: [], stopGraceSeconds: 30 });
    await podman.run({ name: 'os-stubborn', image: 'localhost/a/web:1', labels: {}, env: {}, mounts: [], command: ['/bin/sh', '-c', "trap '' TERM; while true; do sleep 0.2; done"], stopGraceSeconds: 1 });
    await podman.stop('os-polite', 30);
    await podman.stop('os-stubborn', 1);
    const polite = await podman.inspect('os-polite');
    const stubborn = await podman.inspect('os-stubborn');
    assert.equal(polite?.state, 'exited');
    assert.equal(polite?.exitCode, 0);
    assert.equal(stubborn?.state, 'exited');
    assert.equal(stubborn?.exitCode, 137, 'SIGKILL after the grace');
    assert.ok(stubborn.exitedAtMs! - stubborn.startedAtMs! >= 1000, 'not before the grace');
    // Stopping a stopped or absent container is not an error.
    await podman.stop('os-polite', 1);
    await podman.stop('os-none', 1);
  });

  it('kills, starts again the same container, and removes it', async (t) => {
    const { podman } = testPodman(t);
    await buildWeb(t, podman, 'localhost/a/web:1');
    const port = await freePort();
    const id = await podman.run({ name: 'os-kill', image: 'localhost/a/web:1', labels: {}, env: { PORT: String(port) }, mounts: [], stopGraceSeconds: 1 });
    await waitForHttp(port, '/index.html');
    assert.equal(await podman.kill('os-kill'), true);
    await waitFor(podman, 'os-kill', (s) => s === 'exited');
    assert.equal(await podman.kill('os-kill'), false, 'not running');
    await podman.start('os-kill');
    assert.equal(await waitForHttp(port, '/index.html'), 'index');
    assert.equal((await podman.inspect('os-kill'))?.id, id, 'the same container');
    await podman.remove('os-kill');
    assert.equal(await podman.inspect('os-kill'), undefined);
    await podman.remove('os-kill');
    assert.equal(await podman.kill('os-kill'), false, 'not there');
    await assert.rejects(podman.start('os-kill'), (err: unknown) => err instanceof PodmanError && err.kind === 'not-found');
  });

  it('reports container events with the exit code of a died container', async (t) => {
    const { podman } = testPodman(t);
    await buildWeb(t, podman, 'localhost/a/web:1');
    const events: ContainerEvent[] = [];
    let died: (e: ContainerEvent) => void;
    const diedOnce = new Promise<ContainerEvent>((r) => (died = r));
    const since = Date.now() - 1000;
    await podman.run({ name: 'os-other', image: 'localhost/a/web:1', labels: { 'io.openstage.component': 'other' }, env: {}, mounts: [], command: ['/bin/sh', '-c', 'exit 5'], stopGraceSeconds: 1 });
    const stream = podman.events(
      { 'io.openstage.component': 'ev' },
      (e) => {
        events.push(e);
        if (e.status === 'died') died(e);
      },
      since,
    );
    t.after(() => stream.close());
    await podman.run({ name: 'os-ev', image: 'localhost/a/web:1', labels: { 'io.openstage.component': 'ev' }, env: {}, mounts: [], command: ['/bin/sh', '-c', 'exit 3'], stopGraceSeconds: 1 });
    const e = await diedOnce;
    assert.equal(e.name, 'os-ev');
    assert.equal(e.exitCode, 3);
    assert.equal(e.labels['io.openstage.component'], 'ev');
    assert.ok(events.every((x) => x.name === 'os-ev'), 'only containers with the label');
    assert.deepEqual(
      events.map((x) => x.status).filter((s) => ['create', 'start', 'died'].includes(s)),
      ['create', 'start', 'died'],
    );
    stream.close();
    assert.equal((await stream.ended).exitCode, null, 'ended by the kill');
  });

  it('removes an image name: refused while a container uses it, the image goes with its last name', async (t) => {
    const { podman } = testPodman(t);
    const id = await buildWeb(t, podman, 'localhost/a/web:1');
    await podman.tag('localhost/a/web:1', 'localhost/a/web:2');
    await podman.run({ name: 'os-user', image: 'localhost/a/web:1', labels: {}, env: {}, mounts: [], command: ['/bin/sh', '-c', 'exit 0'], stopGraceSeconds: 1 });
    assert.equal(await podman.removeImage('localhost/a/web:2'), 'removed', 'one of two names');
    assert.equal((await podman.inspectImage(id))?.names.length, 1);
    assert.equal(await podman.removeImage('localhost/a/web:1'), 'in-use');
    assert.equal((await podman.listImages()).find((i) => i.id === id)?.containers, 1);
    await podman.remove('os-user');
    assert.equal(await podman.removeImage('localhost/a/web:1'), 'removed');
    assert.equal(await podman.inspectImage(id), undefined);
    assert.deepEqual(await podman.listImages(), [], 'nothing left, no dangling layer image');
    assert.equal(await podman.removeImage('localhost/a/web:1'), 'absent');
  });

  it('builds from a Dockerfile at another path and refuses one outside the context', async (t) => {
    const { podman } = testPodman(t);
    const dir = tempDir(t);
    busyboxContext(dir, { index: 'other', dockerfileName: 'build.Dockerfile' });
    const signal = new AbortController().signal;
    await podman.build({ contextDir: dir, dockerfile: 'build.Dockerfile', tag: 'localhost/a/other:1', logFile: join(dir, 'build.log'), signal, labels: { 'io.openstage.component': 'c9' } });
    assert.ok(await podman.inspectImage('localhost/a/other:1'));
    await assert.rejects(podman.build({ contextDir: dir, dockerfile: '../../etc/passwd', tag: 'localhost/a/x:1', logFile: join(dir, 'build.log'), signal }), /leaves the build context/);
    await assert.rejects(podman.build({ contextDir: dir, tag: 'localhost/a/x:1', logFile: join(dir, 'build.log'), signal }), /no Dockerfile at 'Dockerfile'/);
  });

  it('fails a build whose RUN step fails, with the step in the message', async (t) => {
    const { podman } = testPodman(t);
    const dir = tempDir(t);
    busyboxContext(dir, { extra: ['RUN echo building && exit 7'] });
    await assert.rejects(
      podman.build({ contextDir: dir, tag: 'localhost/a/bad:1', logFile: join(dir, 'build.log'), signal: new AbortController().signal }),
      (err: unknown) => err instanceof PodmanError && /exit code/.test(err.message) && /building/.test(err.message),
    );
    assert.equal(await podman.inspectImage('localhost/a/bad:1'), undefined);
  });

  it('passes build arguments without putting their values in argv', async (t) => {
    const { podman } = testPodman(t);
    const dir = tempDir(t);
    busyboxContext(dir, { extra: ['ARG TOKEN', 'RUN echo "token=$TOKEN" > /www/token.txt'] });
    await podman.build({ contextDir: dir, tag: 'localhost/a/args:1', logFile: join(dir, 'build.log'), signal: new AbortController().signal, buildArgs: { TOKEN: 'abc def' } });
    const port = await freePort();
    await podman.run({ name: 'os-args', image: 'localhost/a/args:1', labels: {}, env: { PORT: String(port) }, mounts: [], stopGraceSeconds: 1 });
    assert.equal(await waitForHttp(port, '/token.txt'), 'token=abc def\n');
    await assert.rejects(podman.build({ contextDir: dir, tag: 'localhost/a/args:2', logFile: join(dir, 'build.log'), signal: new AbortController().signal, buildArgs: { PATH: '/x' } }), /reserved/);
  });

  it('kills an aborted build\'s RUN step and leaves no working container behind', async (t) => {
    const { podman } = testPodman(t);
    const dir = tempDir(t);
    const marker = `sleep-${process.pid}-${Date.now() % 100000}`;
    busyboxContext(dir, { extra: [`RUN echo started; cp /bin/busybox /bin/${marker}; /bin/${marker} sleep 300 || true`] });
    const ac = new AbortController();
    const logFile = join(dir, 'build.log');
    const build = podman.build({ contextDir: dir, tag: 'localhost/a/slow:1', logFile, signal: ac.signal });
    const deadline = Date.now() + 60_000;
    while (!(readFileSync(logFile, { encoding: 'utf8', flag: 'a+' }).includes('started')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    ac.abort(new Error('cancelled by test'));
    await assert.rejects(build, /cancelled by test/);
    const running = () => execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes(marker));
    const until = Date.now() + 15_000;
    while (running().length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(running(), [], 'the RUN step was killed');
    assert.equal(await podman.sweepBuildContainers(), 0, 'the build cleaned up after itself (or the sweep after it did)');
    assert.equal(await podman.inspectImage('localhost/a/slow:1'), undefined);
  });

  it('pulls and pushes with credentials from a real registry, never anonymously with the host\'s logins', async (t) => {
    const registry = await startRegistry(t);
    const { podman, dir } = testPodman(t, { insecureRegistries: [registry.host] });
    const id = await buildWeb(t, podman, 'localhost/a/web:1', { index: 'from-registry' });
    const logFile = join(tempDir(t), 'pull.log');
    const signal = new AbortController().signal;
    const remote = `${registry.host}/team/web:1.0`;
    const credentials = { username: registry.username, password: registry.password };

    await assert.rejects(podman.push({ image: 'localhost/a/web:1', destination: remote, signal, logFile }), (err: unknown) => err instanceof PodmanError && /unauthorized|authentication required/i.test(err.message));
    await podman.push({ image: 'localhost/a/web:1', destination: remote, credentials, signal, logFile });
    assert.equal(await podman.removeImage('localhost/a/web:1'), 'removed');
    assert.deepEqual(await podman.listImages(), []);

    // Anonymous and wrong-password pulls fail with podman's reason; the password is never quoted.
    await assert.rejects(podman.pull({ reference: remote, signal, logFile }), (err: unknown) => err instanceof PodmanError && /unauthorized|authentication required/i.test(err.message));
    await assert.rejects(podman.pull({ reference: remote, credentials: { username: registry.username, password: 'wrong-password' }, signal, logFile }), (err: unknown) => {
      assert.ok(err instanceof PodmanError);
      assert.match(err.message, /unauthorized|authentication required|invalid username\/password/i);
      assert.doesNotMatch(err.message, /wrong-password/);
      return true;
    });
    await assert.rejects(podman.pull({ reference: `${registry.host}/team/none:1`, credentials, signal, logFile }), (err: unknown) => err instanceof PodmanError && /manifest unknown|not found/i.test(err.message));
    await assert.rejects(podman.pull({ reference: 'Not A Reference', credentials, signal, logFile }), /not a valid image reference/);

    const pulled = await podman.pull({ reference: remote, credentials, signal, logFile });
    assert.equal(pulled.id, id, 'the same image id');
    assert.match(pulled.digest, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(readdirSync(join(dir, 'containers', 'tmp', 'private')), [], 'no auth file left behind');
    assert.doesNotMatch(readFileSync(logFile, 'utf8'), new RegExp(registry.password));
    const port = await freePort();
    await podman.run({ name: 'os-pulled', image: remote, labels: {}, env: { PORT: String(port) }, mounts: [], userns: { hostId: HOST_ID, size: 65536 }, stopGraceSeconds: 1 });
    assert.equal(await waitForHttp(port, '/index.html'), 'from-registry');
  });
});
