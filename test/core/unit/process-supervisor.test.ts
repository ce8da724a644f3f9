import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import pino from 'pino';
import { FakeClock } from '../../../src/core/clock.js';
import { processStartTicks, ProcessRuntime, type ReplicaSpec, type ReplicaState } from '../../../src/core/process/supervisor.js';
import { runProbe } from '../../../src/core/process/probe.js';

const log = pino({ level: 'silent' });

/** Waits (real time, up to 10 s) until `check()` holds: child processes start and end on their own schedule. */
async function until(check: () => boolean | Promise<boolean>, what = 'condition'): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what} never became true`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A runtime with a fake clock and a temp dir holding scripts and logs. */
function setup(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'openstage-runtime-'));
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const changes: ReplicaState[] = [];
  const runtime = new ProcessRuntime({ clock, log, backoff: { initialMs: 1000, maxMs: 8000, resetAfterMs: 60_000 }, pollMs: 1000, onChange: (s) => changes.push(s) });
  t.after(async () => {
    await runtime.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });
  const spec = (name: string, source: string, env: Record<string, string> = {}): ReplicaSpec => {
    writeFileSync(join(dir, `${name}.mjs`), source);
    return { instanceId: name, command: process.execPath, args: [join(dir, `${name}.mjs`)], cwd: dir, env: { PATH: process.env.PATH ?? '', ...env }, logFile: join(dir, 'logs', `${name}.log`), terminationGraceMs: 5000 };
  };
  return { dir, clock, runtime, changes, spec };
}

const SERVER = `
import { createServer } from 'node:http';
const port = Number(process.env.PORT);
createServer((req, res) => res.writeHead(req.url === '/bad' ? 500 : 200).end('ok')).listen(port, '127.0.0.1', () => console.log('listening on ' + port));
process.on('SIGTERM', () => { console.log('bye'); process.exit(0); });
`;

describe('ProcessRuntime', () => {
  it('starts a replica with its environment, logs its output, answers probes and stops it with SIGTERM', async (t) => {
    const { runtime, spec } = setup(t);
    const port = await freePort();
    const s = spec('web', SERVER, { PORT: String(port) });
    const state = await runtime.start(s);
    assert.equal(state.state, 'running');
    assert.ok(state.pid! > 0);
    assert.equal(state.startTicks, processStartTicks(state.pid!));
    await until(async () => (await runProbe({ type: 'http', path: '/', timeoutMs: 1000 }, { port, cwd: '/', env: {} })).ok, 'http probe');
    assert.deepEqual(await runProbe({ type: 'http', path: '/bad', timeoutMs: 1000 }, { port, cwd: '/', env: {} }), { ok: false, detail: `GET http://127.0.0.1:${port}/bad → 500` });
    assert.equal((await runProbe({ type: 'tcp', timeoutMs: 1000 }, { port, cwd: '/', env: {} })).ok, true);
    assert.deepEqual(await runtime.logTail(s.logFile, 5), [`listening on ${port}`]);
    const exit = await runtime.stop('web');
    assert.equal(exit?.code, 0);
    assert.equal(processStartTicks(state.pid!), undefined, 'the process is gone');
    assert.deepEqual(await runtime.logTail(s.logFile, 5), [`listening on ${port}`, 'bye']);
    assert.equal(runtime.status('web'), undefined);
  });

  it('restarts a crashing replica after a back-off that doubles per consecutive crash', async (t) => {
    const { runtime, spec, clock, changes } = setup(t);
    await runtime.start(spec('crash', `console.log('boom'); process.exit(3);`));
    await until(() => runtime.status('crash')?.state === 'backoff', 'first crash');
    assert.deepEqual(runtime.status('crash')?.lastExit?.code, 3);
    clock.advance(999);
    assert.equal(runtime.status('crash')?.restarts, 0);
    clock.advance(1);
    await until(() => runtime.status('crash')?.restarts === 1 && runtime.status('crash')?.state === 'backoff', 'second crash');
    clock.advance(1999);
    assert.equal(runtime.status('crash')?.restarts, 1, 'the second delay is 2 s');
    clock.advance(1);
    await until(() => runtime.status('crash')?.restarts === 2, 'second restart');
    assert.ok(changes.some((c) => c.state === 'backoff'));
  });

  it('escalates to SIGKILL when the replica ignores SIGTERM for the grace period', async (t) => {
    const { runtime, spec, clock } = setup(t);
    const s = spec('stubborn', `process.on('SIGTERM', () => console.log('ignored')); setInterval(() => {}, 1000); console.log('up');`);
    await runtime.start(s);
    await until(async () => (await runtime.logTail(s.logFile, 1))[0] === 'up', 'started');
    const stopping = runtime.stop('stubborn');
    await until(async () => (await runtime.logTail(s.logFile, 1))[0] === 'ignored', 'SIGTERM seen');
    clock.advance(5000);
    const exit = await stopping;
    assert.equal(exit?.signal, 'SIGKILL');
  });

  it('stops the whole process group: a child of the replica that ignores SIGTERM is SIGKILLed after the grace period', async (t) => {
    const { runtime, spec, clock, dir } = setup(t);
    writeFileSync(join(dir, 'child.mjs'), `process.on('SIGTERM', () => console.log('child ignored')); setInterval(() => {}, 1000); console.log('child ' + process.pid);`);
    // The replica's own process ends at SIGTERM (the default); the child it started does not.
    const s = spec('wrapper', `import { spawn } from 'node:child_process'; spawn(process.execPath, [${JSON.stringify(join(dir, 'child.mjs'))}], { stdio: 'inherit' }); setInterval(() => {}, 1000);`);
    const started = await runtime.start(s);
    const childPid = await (async () => {
      let pid = 0;
      await until(async () => {
        pid = Number(/^child (\d+)$/.exec((await runtime.logTail(s.logFile, 1))[0] ?? '')?.[1] ?? 0);
        return pid > 0;
      }, 'child started');
      return pid;
    })();
    let stopped = false;
    const stopping = runtime.stop('wrapper').then((exit) => {
      stopped = true;
      return exit;
    });
    await until(() => processStartTicks(started.pid!) === undefined, 'the wrapper ended');
    await until(async () => (await runtime.logTail(s.logFile, 1))[0] === 'child ignored', 'SIGTERM seen by the child');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(stopped, false, 'stop waits for the rest of the group');
    assert.notEqual(processStartTicks(childPid), undefined);
    clock.advance(5000);
    const exit = await stopping;
    // The leader ended at SIGTERM, but the group had to be killed: the replica ended by SIGKILL.
    assert.equal(exit?.signal, 'SIGKILL');
    assert.equal(processStartTicks(childPid), undefined, 'the child was killed with its group');
  });

  it('refuses a command that does not exist with its name in the error', async (t) => {
    const { runtime, dir } = setup(t);
    await assert.rejects(runtime.start({ instanceId: 'x', command: 'openstage-no-such-binary', args: [], cwd: dir, env: {}, logFile: join(dir, 'x.log'), terminationGraceMs: 1000 }), /cannot start 'openstage-no-such-binary': ENOENT/);
    assert.equal(runtime.status('x'), undefined);
  });

  it('keeps a replica started under the same id while the previous one was still ending', async (t) => {
    // An engine handed back to the server that let go of it: its new process starts while
    // the old one ends; the old stop must not drop the new entry nor report "stopped" last.
    const { runtime, spec, changes } = setup(t);
    const s = spec('again', `process.on('SIGTERM', () => { console.log('ending'); setTimeout(() => process.exit(0), 300); }); setInterval(() => {}, 1000); console.log('up');`);
    const old = await runtime.start(s);
    await until(async () => (await runtime.logTail(s.logFile, 1))[0] === 'up', 'started');
    const stopping = runtime.stop('again');
    const fresh = await runtime.start(s);
    t.after(() => {
      try {
        process.kill(fresh.pid!, 'SIGKILL'); // when the runtime lost track of it
      } catch {
        // it was stopped
      }
    });
    assert.notEqual(fresh.pid, old.pid);
    const exit = await stopping;
    assert.equal(exit?.code, 0);
    assert.equal(runtime.status('again')?.state, 'running');
    assert.equal(runtime.status('again')?.pid, fresh.pid);
    assert.equal(changes.at(-1)?.state, 'running', 'the last change reported is the new process running');
    assert.equal(changes.at(-1)?.pid, fresh.pid);
  });

  it('adopts a still-running replica after a restart of the supervisor, and restarts it when it dies', async (t) => {
    const first = setup(t);
    const port = await freePort();
    const s = first.spec('adoptee', SERVER, { PORT: String(port) });
    const started = await first.runtime.start(s);
    first.runtime.detachAll();
    const second = new ProcessRuntime({ clock: first.clock, log, backoff: { initialMs: 1000, maxMs: 8000, resetAfterMs: 60_000 }, pollMs: 1000 });
    t.after(() => second.stopAll());
    const adopted = await second.adopt(s, started.pid, started.startTicks);
    assert.equal(adopted.adopted, true);
    assert.equal(adopted.pid, started.pid);
    await until(async () => (await runProbe({ type: 'tcp', timeoutMs: 1000 }, { port, cwd: '/', env: {} })).ok, 'still serving');
    process.kill(started.pid!, 'SIGKILL');
    await until(() => processStartTicks(started.pid!) === undefined, 'killed');
    first.clock.advance(1000); // the poll notices
    assert.equal(second.status('adoptee')?.state, 'backoff');
    first.clock.advance(1000); // the back-off ends
    await until(() => second.status('adoptee')?.state === 'running' && second.status('adoptee')?.pid !== started.pid, 'restarted');
    await until(async () => (await runProbe({ type: 'tcp', timeoutMs: 1000 }, { port, cwd: '/', env: {} })).ok, 'serving again');
  });

  it('starts a new process when the adopted pid is gone or reused', async (t) => {
    const { runtime, spec } = setup(t);
    const s = spec('fresh', `setInterval(() => {}, 1000);`);
    const state = await runtime.adopt(s, process.pid, 1); // our own pid with a wrong start time
    assert.equal(state.adopted, false);
    assert.notEqual(state.pid, process.pid);
  });
});

describe('runProbe', () => {
  it('reports a refused tcp port, a failing command with its exit code and a passing command', async () => {
    const port = await freePort();
    const tcp = await runProbe({ type: 'tcp', timeoutMs: 1000 }, { port, cwd: '/', env: {} });
    assert.deepEqual(tcp, { ok: false, detail: `tcp 127.0.0.1:${port}: ECONNREFUSED` });
    const bad = await runProbe({ type: 'command', command: [process.execPath, '-e', 'process.exit(4)'], timeoutMs: 5000 }, { port, cwd: '/', env: {} });
    assert.deepEqual(bad, { ok: false, detail: `${process.execPath}: exit code 4` });
    const good = await runProbe({ type: 'command', command: [process.execPath, '-e', ''], timeoutMs: 5000 }, { port, cwd: '/', env: {} });
    assert.equal(good.ok, true);
  });
});
