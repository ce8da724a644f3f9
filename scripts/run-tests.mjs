// The whole test suite (`npm test`): the HTTP-level tests on SQLite, then on PostgreSQL,
// then the compat tests with official clients (go-chassis sc-client and kie-client, the
// Huawei Cloud Python, Go and Java SDKs; about 6 minutes on 2 cores with warm caches). PostgreSQL comes from OPENSTAGE_TEST_PG_URL
// (an admin URL; each test server gets its own database) or, when unset, from a throw-away
// cluster started here before either run (the SQLite run uses it too, as the server of
// created rds resources). End-to-end tests (test/e2e/: real applications built with Maven and
// started as JVMs) run last on SQLite, one file at a time, so that no other test competes for
// the cores while their JVMs start. The console's browser tests (test/console/: Debian's
// Chromium driven by playwright-core) run once on SQLite, one file at a time, before them.
// Then schemathesis fuzzes /openapi.json for server errors (compat/schemathesis/run.sh,
// SCHEMATHESIS_SECONDS, default 120 s).
// The Kubernetes tests (test/deploy/kubernetes/) run on both databases against one test
// cluster (scripts/k8s-test-cluster.sh), brought up after the PostgreSQL run and taken down after;
// the Python SDK's cluster test (compat/python/test_servicestage_cluster.py, skipped in the compat
// phase) runs against the same cluster before it goes down.
// The cluster phase follows the PostgreSQL run: test/cluster/ (several servers on one
// database: in-process, behind nginx, and three processes with a kill -9 of the leader), one
// file at a time, then the main flows of the registry, Kie, IAM, Git and ServiceStage suites
// again with every test server replaced by three behind a round-robin balancer
// (OPENSTAGE_TEST_CLUSTER=3).
// OPENSTAGE_TEST_ONLY=sqlite|postgres|cluster|kubernetes|console|e2e|compat|openapi runs one part. Every phase's output
// streams as it comes (node tests with the spec reporter, counted from a TAP copy).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTempPostgres } from './pg-temp.mjs';

const root = new URL('..', import.meta.url).pathname;
const only = process.env.OPENSTAGE_TEST_ONLY;
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

let failed = false;
const totals = { passed: 0, failed: 0 };
const tapDir = mkdtempSync(join(tmpdir(), 'openstage-tap-'));
/**
 * Runs a command, streaming its output as it comes, and adds up the counts `count(text)`
 * finds in its stdout (or in `countFile` when given: the TAP copy of a node test run).
 */
const runCounted = async (cmd, args, options, count, countFile) => {
  const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    if (!countFile) out += chunk.toString('utf8');
  });
  const status = await new Promise((resolve) => {
    child.on('error', (err) => {
      console.error(`${cmd}: ${err.message}`);
      resolve(1);
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
  let text = out;
  if (countFile) {
    try {
      text = readFileSync(countFile, 'utf8');
    } catch {
      text = '';
    }
  }
  const c = count(text);
  totals.passed += c.passed;
  totals.failed += c.failed;
  if (status !== 0) {
    failed = true;
    if (c.failed === 0) totals.failed += 1; // a crash or setup failure counts as one failure
  }
  console.log(`--- this phase: ${c.passed} passed, ${c.failed} failed${status !== 0 ? ` (exit ${status})` : ''}`);
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
const isE2e = (f) => f.includes('/test/e2e/');
const isConsole = (f) => f.includes('/test/console/');
const isKubernetes = (f) => f.includes('/test/deploy/kubernetes/') && !f.includes('/unit/');
const isCluster = (f) => f.includes('/test/cluster/');
/** node --test with the spec reporter on stdout (streamed) and a TAP copy in a file (counted). */
const nodeTest = async (label, files, concurrency, env) => {
  const tap = join(tapDir, `${label}.tap`);
  const reporters = ['--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`];
  await runCounted(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...reporters, ...files], { env }, nodeCounts, tap);
};
// Unit tests (test/**/unit/) touch no database: they run once, with the SQLite run.
const runNode = async (db, extraEnv) => {
  const files = selected.filter((f) => !isE2e(f) && !isConsole(f) && !isKubernetes(f) && !isCluster(f) && (db === 'sqlite' || !f.includes('/unit/')));
  if (files.length === 0) return;
  console.log(`\n=== node tests on ${db} (${files.length} files) ===`);
  await nodeTest(db, files, 2, { ...process.env, OPENSTAGE_TEST_DB: db, ...extraEnv });
};
// The main flows, run again on three servers behind a round-robin balancer: every request of a
// test may reach another server than the one before.
const CLUSTER_FLOWS = [
  'registry/microservice', 'registry/instance', 'registry/discovery', 'registry/dependency', 'registry/schema', 'registry/tag', 'registry/watch',
  'kie/kv', 'kie/list', 'kie/history', 'kie/file',
  'iam/token', 'iam/aksk',
  'git/authorization', 'git/local-repo', 'git/smart-http', 'git/file',
  'cas/environment.test', 'cas/application.test', 'cas/config.test', 'cas/config-group', 'cas/runtime-stack',
];
/** Several servers on one PostgreSQL database: test/cluster/ alone, then the main flows on three servers. */
const runCluster = async (extraEnv) => {
  const own = selected.filter(isCluster);
  if (own.length > 0) {
    console.log(`\n=== cluster tests on postgres (${own.length} files, one at a time) ===`);
    await nodeTest('cluster', own, 1, { ...process.env, OPENSTAGE_TEST_DB: 'postgres', ...extraEnv });
  }
  const flows = selected.filter((f) => CLUSTER_FLOWS.some((name) => f.includes(`/test/${name}`)));
  if (flows.length > 0) {
    console.log(`\n=== main flows on three servers behind a balancer, postgres (${flows.length} files) ===`);
    await nodeTest('cluster-flows', flows, 2, { ...process.env, OPENSTAGE_TEST_DB: 'postgres', OPENSTAGE_TEST_CLUSTER: '3', ...extraEnv });
  }
};
/** The Kubernetes tests on both databases against one test cluster, stopped afterwards. */
const runKubernetes = async (extraEnv) => {
  const files = selected.filter(isKubernetes);
  if (files.length === 0) return;
  const script = join(root, 'scripts', 'k8s-test-cluster.sh');
  const dir = mkdtempSync(join(tmpdir(), 'openstage-k8s-'));
  console.log(`\n=== Kubernetes test cluster (waits for its binaries' build when one is running) ===`);
  const up = spawnSync('bash', [script, 'up', dir], { stdio: 'inherit' });
  try {
    if (up.status !== 0) {
      console.error('the Kubernetes test cluster did not start: its tests count as one failure');
      failed = true;
      totals.failed += 1;
      return;
    }
    for (const db of ['sqlite', 'postgres']) {
      console.log(`\n=== Kubernetes tests on ${db} (${files.length} files) ===`);
      await nodeTest(`kubernetes-${db}`, files, 2, { ...process.env, OPENSTAGE_TEST_DB: db, OPENSTAGE_TEST_K8S_DIR: dir, ...extraEnv });
    }
    if (!filter) {
      console.log('\n=== compat: Huawei Cloud Python SDK deploying to the test cluster ===');
      await runCounted('bash', [join(root, 'compat', 'run-python.sh'), join(root, 'compat', 'python', 'test_servicestage_cluster.py')], { cwd: root, env: { ...process.env, OPENSTAGE_TEST_K8S_DIR: dir } }, pytestCounts);
    }
  } finally {
    spawnSync('bash', [script, 'down', dir], { stdio: 'inherit' });
    rmSync(dir, { recursive: true, force: true });
  }
};
/** Runs the files `pick` selects on SQLite, one at a time (they use real processes or a browser). */
const runAlone = async (label, what, pick, extraEnv) => {
  const files = selected.filter(pick);
  if (files.length === 0) return;
  console.log(`\n=== ${what} on sqlite (${files.length} files, one at a time) ===`);
  await nodeTest(label, files, 1, { ...process.env, OPENSTAGE_TEST_DB: 'sqlite', ...extraEnv });
};

// PostgreSQL is started before the SQLite run: both runs get its admin URL, since tests on
// either database use it as the server of created (IaC) rds resources.
if (!only || only === 'sqlite' || only === 'postgres' || only === 'cluster' || only === 'kubernetes' || only === 'console' || only === 'e2e') {
  let url = process.env.OPENSTAGE_TEST_PG_URL;
  let temp;
  if (!url) {
    temp = await startTempPostgres();
    if (!temp) {
      console.error('PostgreSQL server binaries not found: install postgresql (Debian) or set OPENSTAGE_TEST_PG_URL');
      process.exit(1);
    }
    url = temp.url;
  }
  try {
    if (!only || only === 'sqlite') await runNode('sqlite', { OPENSTAGE_TEST_PG_URL: url });
    if (!only || only === 'postgres') await runNode('postgres', { OPENSTAGE_TEST_PG_URL: url });
    if (!only || only === 'cluster') await runCluster({ OPENSTAGE_TEST_PG_URL: url });
    if (!only || only === 'kubernetes') await runKubernetes({ OPENSTAGE_TEST_PG_URL: url });
    if (!only || only === 'console') await runAlone('console', 'browser tests of the console', isConsole, { OPENSTAGE_TEST_PG_URL: url });
    if (!only || only === 'e2e') await runAlone('e2e', 'end-to-end tests', isE2e, { OPENSTAGE_TEST_PG_URL: url });
  } finally {
    temp?.stop();
  }
}
if ((!only || only === 'compat') && !filter) {
  console.log('\n=== compat: go-chassis sc-client and kie-client ===');
  await runCounted('bash', [join(root, 'compat', 'run-go.sh')], { cwd: root }, goCounts);
  console.log('\n=== compat: Huawei Cloud Python SDK ===');
  await runCounted('bash', [join(root, 'compat', 'run-python.sh')], { cwd: root }, pytestCounts);
  console.log('\n=== compat: Huawei Cloud Go SDK (CSE v1, ServiceStage v3 through its core) ===');
  await runCounted('bash', [join(root, 'compat', 'run-go-sdk.sh')], { cwd: root }, goCounts);
  console.log('\n=== compat: Huawei Cloud Java SDK (ServiceStage v3 and Git, CSE) ===');
  await runCounted('bash', [join(root, 'compat', 'run-java.sh')], { cwd: root }, surefireCounts);
}
if ((!only || only === 'openapi') && !filter) {
  console.log(`\n=== openapi: schemathesis against /openapi.json, ${process.env.SCHEMATHESIS_SECONDS ?? 120} s, no 5xx allowed ===`);
  await runCounted('bash', [join(root, 'compat', 'schemathesis', 'run.sh')], { cwd: root }, plainCounts);
}
rmSync(tapDir, { recursive: true, force: true });
console.log(`\ntotal: ${totals.passed} passed, ${totals.failed} failed`);
process.exit(failed ? 1 : 0);
