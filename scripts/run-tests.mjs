// The whole test suite (`npm test`), phase by phase. What runs where:
//
//   phase        files / command                                   database     at once
//   sqlite       every test/**/*.test.ts but the groups below,     SQLite       2 files
//                test/**/unit/ included
//   postgres     the same, without unit/, without the files        PostgreSQL   2 files
//                marked "One database" and (when the cluster
//                phase runs too) without the cluster flows
//   cluster      test/cluster/ (several servers on one database:   PostgreSQL   1 file
//                in-process, behind nginx, three processes with
//                a kill -9 of the leader), then the main flows
//                (CLUSTER_FLOWS) with every test server replaced   PostgreSQL   2 files
//                by three behind a round-robin balancer
//                (OPENSTAGE_TEST_CLUSTER=3)
//   kubernetes   test/deploy/kubernetes/ (not unit/) against one   both         2 files
//                test cluster (scripts/k8s-test-cluster.sh, started
//                in the background when the cluster phase starts),
//                then compat/python/test_servicestage_cluster.py
//   console      test/console/ (Debian's Chromium, playwright-core) SQLite       1 file
//   e2e          test/e2e/ (the ServiceComb walk-through: Maven     SQLite       1 file
//                builds and JVMs; nothing else competes for the cores)
//   compat       go-chassis sc-client and kie-client, the Huawei Cloud Python, Go and Java SDKs
//   openapi      schemathesis fuzzes /openapi.json for SCHEMATHESIS_SECONDS (default 120 s), no 5xx
//
// "One database" files start their suite with a `// One database:` comment saying why the
// database does not matter to them (they test the deployment engine with real processes, the
// confinement, podman, or the CLI client, whose server side runs on both databases in its own
// suites): they run on SQLite only, since starting JVMs, Tomcats and containers twice costs
// minutes and proves nothing more. The cluster flows run on PostgreSQL on three servers only:
// every request of theirs reaches a PostgreSQL-backed server, so a single-server PostgreSQL run
// of the same files would add nothing. Every test runs at least once.
//
// Each node test file runs as its own `node --test` (spec reporter, and a TAP copy that is
// counted); files of a phase run in a pool, the longest first (by the previous run's times in
// OPENSTAGE_TEST_TIMINGS, default <tmp>/openstage-test-timings.json; unknown files first),
// and a file's output is printed whole when it ends (streamed when the pool holds one file).
// The run ends with a table of the phases' wall times and counts, the slowest files, and every
// failed test with its error (the tail of a CI log is what gets read).
//
// PostgreSQL comes from OPENSTAGE_TEST_PG_URL (an admin URL; each test server gets its own
// database) or, when unset, from a throw-away cluster started here (the SQLite phase uses it
// too, as the server of created rds resources).
// OPENSTAGE_TEST_ONLY=sqlite|postgres|cluster|kubernetes|console|e2e|compat|openapi runs one
// phase (or a comma-separated list of them); an argument runs only the compiled test files
// whose path contains it. A test file still running after OPENSTAGE_TEST_FILE_TIMEOUT_SECONDS
// (default 900) is killed and counted as a failure with its output so far: a hang costs
// that much, not the whole CI run. SIGINT or SIGTERM stops the run with the report so far.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startTempPostgres } from './pg-temp.mjs';

const root = new URL('..', import.meta.url).pathname;
const only = process.env.OPENSTAGE_TEST_ONLY;
/** Whether phase `name` runs (OPENSTAGE_TEST_ONLY: one phase or a comma-separated list). */
const runs = (name) => !only || only.split(',').includes(name);
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
};
walk(join(root, 'dist', 'test'));
const filter = process.argv[2];
const selected = filter ? files.filter((f) => f.includes(filter)) : files;
if (filter && selected.length === 0) {
  console.error(`no compiled test file matches "${filter}" (did npm run build succeed?)`);
  process.exit(1);
}

const runStart = Date.now();
const totals = { passed: 0, failed: 0 };
/** @type {{ name: string, seconds: number, passed: number, failed: number }[]} */
const phases = [];
/** @type {{ where: string, name: string, detail: string }[]} */
const failures = [];
/** @type {{ file: string, db: string, seconds: number }[]} */
const fileTimes = [];
const tapDir = mkdtempSync(join(tmpdir(), 'openstage-tap-'));
const timingsFile = process.env.OPENSTAGE_TEST_TIMINGS || join(tmpdir(), 'openstage-test-timings.json');
/** Seconds each `<db> <file>` took in earlier runs. */
let timings = {};
try {
  timings = JSON.parse(readFileSync(timingsFile, 'utf8'));
} catch {
  timings = {};
}
const rel = (f) => relative(join(root, 'dist'), f);
const seconds = (ms) => (ms / 1000).toFixed(1);

/** Runs `body` as the phase `name`: a header, its wall time and counts kept for the closing table. */
let running;
const phase = async (name, body) => {
  console.log(`\n=== ${name} ===`);
  const start = Date.now();
  const before = { ...totals };
  running = { name, start, before };
  await body();
  running = undefined;
  const p = { name, seconds: (Date.now() - start) / 1000, passed: totals.passed - before.passed, failed: totals.failed - before.failed };
  phases.push(p);
  console.log(`=== ${name}: ${p.passed} passed, ${p.failed} failed, ${p.seconds.toFixed(0)} s ===`);
};

/**
 * Runs a command, streaming its output as it comes, and adds up the counts `count(stdout)`
 * finds. A non-zero exit with no failure counted counts as one; the output's last lines are
 * kept for the closing list of failures.
 */
const runCounted = async (label, cmd, args, options, count) => {
  const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.add(child);
  let out = '';
  let tail = '';
  const keep = (chunk) => {
    tail = (tail + chunk.toString('utf8')).slice(-6000);
  };
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    out += chunk.toString('utf8');
    keep(chunk);
  });
  child.stderr.on('data', (chunk) => {
    process.stderr.write(chunk);
    keep(chunk);
  });
  const status = await new Promise((resolve) => {
    child.on('error', (err) => {
      tail += `\n${cmd}: ${err.message}`;
      resolve(1);
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
  children.delete(child);
  const c = count(out);
  totals.passed += c.passed;
  totals.failed += c.failed;
  if (status !== 0 || c.failed > 0) {
    if (c.failed === 0) totals.failed += 1; // a crash or setup failure counts as one failure
    failures.push({ where: label, name: `exit ${status}, ${c.failed} failed`, detail: tail.split('\n').slice(-30).join('\n') });
  }
  console.log(`--- ${label}: ${c.passed} passed, ${c.failed} failed${status !== 0 ? ` (exit ${status})` : ''}`);
};
const nodeCounts = (out) => ({
  passed: Number(/^# pass (\d+)/m.exec(out)?.[1] ?? 0),
  failed: Number(/^# fail (\d+)/m.exec(out)?.[1] ?? 0),
});
const goCounts = (out) => ({
  passed: (out.match(/^--- PASS/gm) ?? []).length,
  failed: (out.match(/^--- FAIL/gm) ?? []).length,
});
/** Maven Surefire's closing summary (`Tests run: N, Failures: F, Errors: E, Skipped: S` without ` -- in`). */
const surefireCounts = (out) => {
  const m = [...out.matchAll(/^\[\w+\] Tests run: (\d+), Failures: (\d+), Errors: (\d+), Skipped: (\d+)\s*$/gm)].at(-1);
  return m ? { passed: Number(m[1]) - Number(m[2]) - Number(m[3]) - Number(m[4]), failed: Number(m[2]) + Number(m[3]) } : { passed: 0, failed: 0 };
};
const pytestCounts = (out) => ({
  passed: Number(/(\d+) passed/.exec(out)?.[1] ?? 0),
  failed: Number(/(\d+) failed/.exec(out)?.[1] ?? 0) + Number(/(\d+) error/.exec(out)?.[1] ?? 0),
});
const plainCounts = (out) => {
  const m = /(\d+) passed, (\d+) failed/.exec(out.split('\n').reverse().find((l) => /\d+ passed, \d+ failed/.test(l)) ?? '');
  return { passed: Number(m?.[1] ?? 0), failed: Number(m?.[2] ?? 0) };
};

/**
 * The failed tests of a TAP report: each `not ok` that is not only the parent of failed
 * subtests, with its location and error (the YAML block's lines up to the stack).
 */
const tapFailures = (text) => {
  const lines = text.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i]);
    if (!m) continue;
    const block = [];
    for (let j = i + 1; j < lines.length && lines[j].trim() !== '...'; j++) block.push(lines[j]);
    if (block.some((l) => /failureType: 'subtestsFailed'/.test(l))) continue;
    const stack = block.findIndex((l) => /^\s*stack: /.test(l));
    const detail = (stack >= 0 ? block.slice(0, stack) : block).filter((l) => !/^\s*(---|duration_ms:|type:)/.test(l)).slice(0, 25);
    out.push({ name: m[2], detail: detail.map((l) => l.slice(m[1].length)).join('\n') });
  }
  return out;
};

const isE2e = (f) => f.includes('/test/e2e/');
const isConsole = (f) => f.includes('/test/console/');
const isKubernetes = (f) => f.includes('/test/deploy/kubernetes/') && !f.includes('/unit/');
const isCluster = (f) => f.includes('/test/cluster/');
const isUnit = (f) => f.includes('/unit/');
/** A file whose suite says `// One database:` (see the header): run on SQLite only. */
const isOneDatabase = (f) => /^\/\/ One database: /m.test(readFileSync(f, 'utf8'));
// The main flows, run again on three servers behind a round-robin balancer: every request of a
// test may reach another server than the one before.
const CLUSTER_FLOWS = [
  'registry/microservice', 'registry/instance', 'registry/discovery', 'registry/dependency', 'registry/schema', 'registry/tag', 'registry/watch',
  'kie/kv', 'kie/list', 'kie/history', 'kie/file',
  'iam/token', 'iam/aksk',
  'git/authorization', 'git/local-repo', 'git/smart-http', 'git/file',
  'cas/environment.test', 'cas/application.test', 'cas/config.test', 'cas/config-group', 'cas/runtime-stack',
];
const isClusterFlow = (f) => CLUSTER_FLOWS.some((name) => f.includes(`/test/${name}`));

const FILE_TIMEOUT_MS = Number(process.env.OPENSTAGE_TEST_FILE_TIMEOUT_SECONDS || 900) * 1000;
/** Test files and commands running now (killed when the run is interrupted). */
const children = new Set();
/** Kills a child's whole process group (children run detached, each in its own). */
const killGroup = (child) => {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // gone already
  }
};
let tapSeq = 0;
/**
 * Runs one test file with `node --test`: spec output (printed whole at the end, or streamed
 * when `stream`), a TAP copy counted and read for failures; its wall time is recorded.
 */
const runFile = async ({ file, db, env }, stream) => {
  const tap = join(tapDir, `${++tapSeq}.tap`);
  const start = Date.now();
  const args = ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, file];
  // Its own process group: a hung file is killed with the test process node --test started.
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.add(child);
  let timedOut = false;
  const watchdog = setTimeout(() => {
    timedOut = true;
    killGroup(child);
  }, FILE_TIMEOUT_MS);
  const chunks = [];
  if (stream) console.log(`\n--- ${rel(file)} on ${db} ---`);
  const take = (chunk) => {
    if (stream) process.stdout.write(chunk);
    else chunks.push(chunk);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const status = await new Promise((resolve) => {
    child.on('error', (err) => {
      chunks.push(Buffer.from(`${err.message}\n`));
      resolve(1);
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
  clearTimeout(watchdog);
  children.delete(child);
  const took = Date.now() - start;
  if (timedOut) chunks.push(Buffer.from(`\nkilled after ${FILE_TIMEOUT_MS / 1000} s (OPENSTAGE_TEST_FILE_TIMEOUT_SECONDS)\n`));
  let text = '';
  try {
    text = readFileSync(tap, 'utf8');
  } catch {
    text = '';
  }
  const c = nodeCounts(text);
  totals.passed += c.passed;
  totals.failed += c.failed;
  const where = `${rel(file)} on ${db}`;
  for (const f of tapFailures(text)) failures.push({ where, ...f });
  if (status !== 0 && c.failed === 0) {
    totals.failed += 1; // a crash, a hang or a failure outside any test counts as one
    const output = (stream ? `killed after ${FILE_TIMEOUT_MS / 1000} s` : Buffer.concat(chunks).toString('utf8')).split('\n').slice(-30).join('\n');
    failures.push({ where, name: timedOut ? `still running after ${FILE_TIMEOUT_MS / 1000} s: killed` : `exit ${status} with no failed test`, detail: output });
  }
  fileTimes.push({ file: rel(file), db, seconds: took / 1000 });
  timings[`${db} ${rel(file)}`] = Math.round(took / 100) / 10;
  const summary = `${c.passed} passed, ${c.failed} failed, ${seconds(took)} s${status !== 0 ? ` (exit ${status})` : ''}`;
  if (stream) console.log(`--- ${where}: ${summary}`);
  else process.stdout.write(Buffer.concat([Buffer.from(`\n--- ${where}: ${summary}\n`), ...chunks]));
};

/**
 * Runs test files (`{file, db, env}`) in a pool of `concurrency`, the longest of the previous
 * run first (unknown files first of all): the phase does not end on one long file alone.
 */
const runFiles = async (jobs, concurrency) => {
  // Another database's time of the same file stands in for one never measured.
  const expected = (j) => timings[`${j.db} ${rel(j.file)}`] ?? timings[`sqlite ${rel(j.file)}`] ?? timings[`postgres ${rel(j.file)}`] ?? Infinity;
  const queue = [...jobs].sort((a, b) => expected(b) - expected(a));
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) await runFile(job, concurrency === 1);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
};
const jobsOn = (db, list, extraEnv) => list.map((file) => ({ file, db, env: { ...process.env, OPENSTAGE_TEST_DB: db, ...extraEnv } }));

/** The Kubernetes test cluster, started in the background (see the header). */
let k8s;
const startK8sCluster = () => {
  if (k8s || selected.filter(isKubernetes).length === 0) return;
  const dir = mkdtempSync(join(tmpdir(), 'openstage-k8s-'));
  const script = join(root, 'scripts', 'k8s-test-cluster.sh');
  let log = '';
  const child = spawn('bash', [script, 'up', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (c) => (log += c));
  child.stderr.on('data', (c) => (log += c));
  const up = new Promise((resolve) => {
    child.on('error', () => resolve(1));
    child.on('close', (code) => resolve(code ?? 1));
  });
  k8s = { dir, script, up, log: () => log };
};
const stopK8sCluster = async () => {
  if (!k8s) return;
  await k8s.up;
  await new Promise((resolve) => spawn('bash', [k8s.script, 'down', k8s.dir], { stdio: 'inherit' }).on('close', resolve));
  rmSync(k8s.dir, { recursive: true, force: true });
  k8s = undefined;
};

/** The throw-away PostgreSQL cluster, when OPENSTAGE_TEST_PG_URL is not given. */
let temp;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const child of children) killGroup(child);
    if (k8s) spawnSync('bash', [k8s.script, 'down', k8s.dir], { stdio: 'inherit' });
    temp?.stop();
    if (running) phases.push({ name: `${running.name} (interrupted)`, seconds: (Date.now() - running.start) / 1000, passed: totals.passed - running.before.passed, failed: totals.failed - running.before.failed });
    totals.failed += 1;
    failures.push({ where: 'the run', name: `interrupted by ${signal}`, detail: 'the phases after the last one listed did not run' });
    report();
    process.exit(1);
  });
}

if (['sqlite', 'postgres', 'cluster', 'kubernetes', 'console', 'e2e'].some(runs)) {
  // PostgreSQL is started before the SQLite run: both runs get its admin URL, since tests on
  // either database use it as the server of created (IaC) rds resources.
  let url = process.env.OPENSTAGE_TEST_PG_URL;
  if (!url) {
    temp = await startTempPostgres();
    if (!temp) {
      console.error('PostgreSQL server binaries not found: install postgresql (Debian) or set OPENSTAGE_TEST_PG_URL');
      process.exit(1);
    }
    url = temp.url;
  }
  const pgEnv = { OPENSTAGE_TEST_PG_URL: url };
  const plain = selected.filter((f) => !isE2e(f) && !isConsole(f) && !isKubernetes(f) && !isCluster(f));
  try {
    if (runs('sqlite') && plain.length > 0) {
      await phase(`node tests on SQLite (${plain.length} files)`, () => runFiles(jobsOn('sqlite', plain, pgEnv), 2));
    }
    if (runs('postgres')) {
      const pg = plain.filter((f) => !isUnit(f) && !isOneDatabase(f) && (!runs('cluster') || !isClusterFlow(f)));
      if (pg.length > 0) await phase(`node tests on PostgreSQL (${pg.length} files)`, () => runFiles(jobsOn('postgres', pg, pgEnv), 2));
    }
    if (runs('cluster')) {
      if (runs('kubernetes')) startK8sCluster();
      const own = selected.filter(isCluster);
      if (own.length > 0) await phase(`cluster tests on PostgreSQL (${own.length} files, one at a time)`, () => runFiles(jobsOn('postgres', own, pgEnv), 1));
      const flows = selected.filter(isClusterFlow);
      if (flows.length > 0) {
        await phase(`main flows on three servers behind a balancer, PostgreSQL (${flows.length} files)`, () => runFiles(jobsOn('postgres', flows, { ...pgEnv, OPENSTAGE_TEST_CLUSTER: '3' }), 2));
      }
    }
    if (runs('kubernetes')) {
      const kube = selected.filter(isKubernetes);
      if (kube.length > 0) {
        await phase(`Kubernetes tests on SQLite and PostgreSQL (${kube.length} files each)`, async () => {
          startK8sCluster();
          console.log('waiting for the Kubernetes test cluster (and its binaries\' build when one is running)');
          try {
            if ((await k8s.up) !== 0) {
              console.error(k8s.log());
              console.error('the Kubernetes test cluster did not start: its tests count as one failure');
              totals.failed += 1;
              failures.push({ where: 'kubernetes', name: 'the test cluster did not start', detail: k8s.log().split('\n').slice(-30).join('\n') });
              return;
            }
            const env = { ...pgEnv, OPENSTAGE_TEST_K8S_DIR: k8s.dir };
            await runFiles([...jobsOn('sqlite', kube, env), ...jobsOn('postgres', kube, env)], 2);
            if (!filter) {
              console.log('\n--- compat: Huawei Cloud Python SDK deploying to the test cluster ---');
              await runCounted('compat: Python SDK on the test cluster', 'bash', [join(root, 'compat', 'run-python.sh'), join(root, 'compat', 'python', 'test_servicestage_cluster.py')], { cwd: root, env: { ...process.env, OPENSTAGE_TEST_K8S_DIR: k8s.dir } }, pytestCounts);
            }
          } finally {
            await stopK8sCluster();
          }
        });
      }
    }
    const consoleFiles = selected.filter(isConsole);
    if (runs('console') && consoleFiles.length > 0) {
      await phase(`browser tests of the console on SQLite (${consoleFiles.length} files, one at a time)`, () => runFiles(jobsOn('sqlite', consoleFiles, pgEnv), 1));
    }
    const e2eFiles = selected.filter(isE2e);
    if (runs('e2e') && e2eFiles.length > 0) {
      await phase(`end-to-end tests on SQLite (${e2eFiles.length} files, one at a time)`, () => runFiles(jobsOn('sqlite', e2eFiles, pgEnv), 1));
    }
  } finally {
    await stopK8sCluster();
    temp?.stop();
    temp = undefined;
  }
}
if (runs('compat') && !filter) {
  const compat = [
    ['go-chassis sc-client and kie-client', 'run-go.sh', goCounts],
    ['Huawei Cloud Python SDK', 'run-python.sh', pytestCounts],
    ['Huawei Cloud Go SDK (CSE v1, ServiceStage v3 through its core)', 'run-go-sdk.sh', goCounts],
    ['Huawei Cloud Java SDK (ServiceStage v3 and Git, CSE)', 'run-java.sh', surefireCounts],
  ];
  for (const [what, script, count] of compat) {
    await phase(`compat: ${what}`, () => runCounted(`compat: ${what}`, 'bash', [join(root, 'compat', script)], { cwd: root }, count));
  }
}
if (runs('openapi') && !filter) {
  await phase(`openapi: schemathesis against /openapi.json, ${process.env.SCHEMATHESIS_SECONDS ?? 120} s, no 5xx allowed`, () =>
    runCounted('openapi: schemathesis', 'bash', [join(root, 'compat', 'schemathesis', 'run.sh')], { cwd: root }, plainCounts));
}
report();
process.exit(totals.failed > 0 ? 1 : 0);

/** The closing report: phases, the slowest files, then every failure (the tail of a CI log). */
function report() {
  rmSync(tapDir, { recursive: true, force: true });
  try {
    writeFileSync(timingsFile, `${JSON.stringify(timings, null, 1)}\n`);
  } catch (err) {
    console.error(`could not keep the file timings in ${timingsFile}: ${err.message}`);
  }
  const pad = (text, n) => String(text).padEnd(n);
  const padLeft = (text, n) => String(text).padStart(n);
  console.log('\n=== phases (wall time) ===');
  console.log(`${pad('phase', 90)} ${padLeft('seconds', 8)} ${padLeft('passed', 7)} ${padLeft('failed', 7)}`);
  for (const p of phases) console.log(`${pad(p.name, 90)} ${padLeft(p.seconds.toFixed(0), 8)} ${padLeft(p.passed, 7)} ${padLeft(p.failed, 7)}`);
  console.log(`${pad('whole run', 90)} ${padLeft(((Date.now() - runStart) / 1000).toFixed(0), 8)} ${padLeft(totals.passed, 7)} ${padLeft(totals.failed, 7)}`);
  if (fileTimes.length > 0) {
    console.log('\n=== slowest test files (wall time of the file) ===');
    for (const t of [...fileTimes].sort((a, b) => b.seconds - a.seconds).slice(0, 15)) console.log(`${padLeft(t.seconds.toFixed(0), 6)} s  ${t.file} on ${t.db}`);
  }
  if (failures.length > 0) {
    console.log(`\n=== failed (${failures.length}) ===`);
    for (const f of failures) console.log(`\n✖ ${f.where}: ${f.name}\n${f.detail}`);
  }
  console.log(`\ntotal: ${totals.passed} passed, ${totals.failed} failed`);
}
