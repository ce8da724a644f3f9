import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it, type TestContext } from 'node:test';
import { zipSync } from 'fflate';
import pino from 'pino';
import { FakeClock } from '../../../src/core/clock.js';
import { buildForStack, type LaunchSpec } from '../../../src/deploy/build/stacks.js';
import { BuildError } from '../../../src/deploy/build/run.js';
import { plainRunner } from '../../helpers/build.js';
import { ProcessRuntime } from '../../../src/core/process/supervisor.js';
import { runProbe } from '../../../src/core/process/probe.js';
import { fetchSource, type SourceSpec } from '../../../src/deploy/source.js';

const examples = resolve(new URL('../../../../examples', import.meta.url).pathname);
const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'openstage-build-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Fetches and builds `source` for `stack` into a fresh artifact dir. */
async function fetchAndBuild(t: TestContext, source: SourceSpec, stack: string, signal = new AbortController().signal): Promise<{ dir: string; launch: LaunchSpec; messages: string[]; revision: string }> {
  const dir = join(tempDir(t), 'artifact');
  const messages: string[] = [];
  const logFile = join(dir, '..', 'build.log');
  mkdirSync(dir, { recursive: true });
  const run = plainRunner(dir, baseEnv, logFile, signal);
  const { revision } = await fetchSource(source, dir, { env: baseEnv, run, log: (l) => messages.push(l) });
  const launch = await buildForStack(stack, { dir, env: baseEnv, run, logFile, signal, log: (l) => messages.push(l) });
  return { dir, launch, messages, revision };
}

/** Starts the built artifact on a free port and returns what GET / answers. */
async function runAndGet(t: TestContext, built: { dir: string; launch: LaunchSpec }, version: string): Promise<any> {
  const port = await freePort();
  const runtime = new ProcessRuntime({ clock: new FakeClock(), log: pino({ level: 'silent' }), backoff: { initialMs: 1000, maxMs: 1000, resetAfterMs: 1000 }, pollMs: 1000 });
  t.after(() => runtime.stopAll());
  await runtime.start({ instanceId: 'i1', command: built.launch.command, args: built.launch.args, cwd: built.dir, env: { ...baseEnv, PORT: String(port), CAS_INSTANCE_VERSION: version }, logFile: join(built.dir, '..', 'run.log'), terminationGraceMs: 5000 });
  const deadline = Date.now() + 30_000;
  while (!(await runProbe({ type: 'http', path: '/health', timeoutMs: 1000 }, { port, cwd: '/', env: {} })).ok) {
    if (Date.now() > deadline) assert.fail(`never answered; log:\n${existsSync(join(built.dir, '..', 'run.log')) ? readFileSync(join(built.dir, '..', 'run.log'), 'utf8') : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return (await fetch(`http://127.0.0.1:${port}/`)).json();
}

/** A git repository (branch main) holding a copy of `folder`. */
function gitRepo(t: TestContext, folder: string): string {
  const repo = join(tempDir(t), 'repo');
  cpSync(folder, repo, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env: { ...baseEnv, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' } });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'first');
  return repo;
}

describe('source fetch and build per runtime stack', () => {
  it('clones a Node.js service from a file:// git repository at a branch, builds it and runs it', async (t) => {
    const repo = gitRepo(t, join(examples, 'node-hello'));
    const built = await fetchAndBuild(t, { kind: 'code', repo_url: pathToFileURL(repo).toString(), repo_ref: 'main' }, 'Nodejs');
    assert.match(built.revision, /^[0-9a-f]{40}$/);
    assert.deepEqual(built.launch, { command: 'npm', args: ['start', '--silent'] });
    assert.ok(built.messages.includes('npm ci'));
    assert.equal(existsSync(join(built.dir, '.git')), false);
    const body = await runAndGet(t, built, '2.0.0');
    assert.equal(body.service, 'node-hello');
    assert.equal(body.version, '2.0.0');
  });

  it('checks out a commit sha that is not a branch', async (t) => {
    const repo = gitRepo(t, join(examples, 'node-hello'));
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    const built = await fetchAndBuild(t, { kind: 'code', repo_url: pathToFileURL(repo).toString(), repo_ref: sha }, 'Nodejs');
    assert.equal(built.revision, sha);
  });

  it('refuses a ref that does not exist with git\'s reason', async (t) => {
    const repo = gitRepo(t, join(examples, 'node-hello'));
    await assert.rejects(fetchAndBuild(t, { kind: 'code', repo_url: pathToFileURL(repo).toString(), repo_ref: 'no-such-branch' }, 'Nodejs'), (err: Error) => err instanceof BuildError && /exit code/.test(err.message));
  });

  it('builds a Python service from a file:// .tar.gz package in a venv and runs it', async (t) => {
    const dir = tempDir(t);
    execFileSync('tar', ['-czf', join(dir, 'py.tar.gz'), '-C', examples, 'python-hello']);
    const built = await fetchAndBuild(t, { kind: 'package', url: pathToFileURL(join(dir, 'py.tar.gz')).toString() }, 'Python');
    assert.deepEqual(built.launch, { command: '.venv/bin/python', args: ['-u', 'app.py'] });
    const body = await runAndGet(t, built, '1.2.3');
    assert.deepEqual([body.service, body.version], ['python-hello', '1.2.3']);
  });

  it('runs a Java jar from a file:// package as is', async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'classes'));
    execFileSync('javac', ['-d', join(dir, 'classes'), join(examples, 'java-hello/src/main/java/hello/Main.java')]);
    execFileSync('jar', ['--create', '--file', join(dir, 'java-hello.jar'), '--main-class', 'hello.Main', '-C', join(dir, 'classes'), '.']);
    const built = await fetchAndBuild(t, { kind: 'package', url: pathToFileURL(join(dir, 'java-hello.jar')).toString() }, 'Java');
    assert.deepEqual(built.launch, { command: 'java', args: ['-jar', 'java-hello.jar'] });
    const body = await runAndGet(t, built, '3.0.0');
    assert.deepEqual([body.service, body.version], ['java-hello', '3.0.0']);
  });

  it('builds a Maven project with mvn -q package and runs its jar', async (t) => {
    const dir = tempDir(t);
    execFileSync('tar', ['-czf', join(dir, 'java.tar.gz'), '--exclude=target', '-C', examples, 'java-hello']);
    const built = await fetchAndBuild(t, { kind: 'package', url: pathToFileURL(join(dir, 'java.tar.gz')).toString() }, 'Java');
    assert.deepEqual(built.launch, { command: 'java', args: ['-jar', join('target', 'java-hello.jar')] });
    assert.ok(built.messages.includes('mvn -q -B package -DskipTests'));
    const body = await runAndGet(t, built, '4.0.0');
    assert.deepEqual([body.service, body.version], ['java-hello', '4.0.0']);
  });

  it('builds a Go service with go build from a zip package (one top-level folder stripped)', async (t) => {
    const dir = tempDir(t);
    const files: Record<string, Uint8Array> = {};
    for (const f of ['go.mod', 'main.go']) files[`go-hello/${f}`] = readFileSync(join(examples, 'go-hello', f));
    writeFileSync(join(dir, 'go.zip'), zipSync(files));
    const built = await fetchAndBuild(t, { kind: 'package', url: pathToFileURL(join(dir, 'go.zip')).toString() }, 'Go');
    assert.deepEqual(built.launch, { command: './app', args: [] });
    const body = await runAndGet(t, built, '0.1.0');
    assert.deepEqual([body.service, body.version], ['go-hello', '0.1.0']);
  });

  it('fails a build whose script fails, with the exit code and the last log lines', async (t) => {
    const src = tempDir(t);
    writeFileSync(join(src, 'package.json'), JSON.stringify({ name: 'bad', version: '1.0.0', scripts: { build: 'node -e "console.error(\'compile error in x.ts\'); process.exit(7)"', start: 'node x.js' } }));
    const repo = gitRepo(t, src);
    await assert.rejects(fetchAndBuild(t, { kind: 'code', repo_url: pathToFileURL(repo).toString(), repo_ref: 'main' }, 'Nodejs'), (err: Error) => {
      assert.ok(err instanceof BuildError);
      assert.match(err.message, /'npm run build' failed with exit code 7/);
      assert.match(err.message, /compile error in x\.ts/);
      return true;
    });
  });

  it('kills a running build when it is aborted', async (t) => {
    const src = tempDir(t);
    writeFileSync(join(src, 'package.json'), JSON.stringify({ name: 'slow', version: '1.0.0', scripts: { build: 'node -e "setTimeout(() => {}, 60000)"' } }));
    const repo = gitRepo(t, src);
    const controller = new AbortController();
    const started = Date.now();
    const building = fetchAndBuild(t, { kind: 'code', repo_url: pathToFileURL(repo).toString(), repo_ref: 'main' }, 'Nodejs', controller.signal);
    setTimeout(() => controller.abort(new Error('cancelled by test')), 1500);
    await assert.rejects(building, /cancelled by test/);
    assert.ok(Date.now() - started < 20_000);
  });

  it('refuses images, unknown stacks, unsupported packages and unsafe zip paths with clear reasons', async (t) => {
    const dir = tempDir(t);
    await assert.rejects(fetchAndBuild(t, { kind: 'image', url: 'swr.example/x:1' }, 'Docker'), /container runtime/);
    await assert.rejects(fetchAndBuild(t, { kind: 'code', repo_url: 'file:///nonexistent', repo_ref: '--upload-pack=touch /tmp/x' }, 'Nodejs'), /starts with '-'/);
    writeFileSync(join(dir, 'x.rar'), 'x');
    await assert.rejects(fetchAndBuild(t, { kind: 'package', url: pathToFileURL(join(dir, 'x.rar')).toString() }, 'Java'), /unsupported package x\.rar/);
    writeFileSync(join(dir, 'evil.zip'), zipSync({ '../evil.txt': new Uint8Array([1]) }));
    await assert.rejects(fetchAndBuild(t, { kind: 'package', url: pathToFileURL(join(dir, 'evil.zip')).toString() }, 'Java'), /unsafe path/);
    await assert.rejects(fetchAndBuild(t, { kind: 'package', url: pathToFileURL(join(dir, 'missing.jar')).toString() }, 'Java'), /cannot read .*ENOENT/);
    writeFileSync(join(dir, 'a.jar'), 'not really a jar');
    await assert.rejects(fetchAndBuild(t, { kind: 'package', url: pathToFileURL(join(dir, 'a.jar')).toString() }, 'Docker'), /runs on the container runtime/);
  });
});
