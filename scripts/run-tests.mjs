// The whole test suite (`npm test`): the HTTP-level tests on SQLite, then on PostgreSQL,
// then the compat tests with official clients. PostgreSQL comes from OPENSTAGE_TEST_PG_URL
// (an admin URL; each test server gets its own database) or, when unset, from a throw-away
// cluster started here before either run (the SQLite run uses it too, as the server of
// created rds resources). Then the cluster phase on PostgreSQL: test/cluster/ (several
// servers on one database: in-process, behind nginx, and three processes with a kill -9 of
// the leader), one file at a time, and the main flows of the registry, Kie, IAM, Git and
// ServiceStage suites again with every test server replaced by three behind a round-robin
// balancer (OPENSTAGE_TEST_CLUSTER=3). End-to-end tests (test/e2e/: real applications built
// with Maven and started as JVMs) run last on SQLite, one file at a time, so that no other
// test competes for the cores while their JVMs start.
// OPENSTAGE_TEST_ONLY=sqlite|postgres|cluster|e2e|compat runs one part.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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
/** Runs a command, echoing its output, and adds up the counts `count(output)` finds. */
const runCounted = (cmd, args, options, count) => {
  const r = spawnSync(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
  process.stdout.write(r.stdout ?? '');
  const c = count(r.stdout ?? '');
  totals.passed += c.passed;
  totals.failed += c.failed;
  if (r.status !== 0) {
    failed = true;
    if (c.failed === 0) totals.failed += 1; // a crash or setup failure counts as one failure
  }
};
const nodeCounts = (out) => ({
  passed: Number(/^# pass (\d+)/m.exec(out)?.[1] ?? 0),
  failed: Number(/^# fail (\d+)/m.exec(out)?.[1] ?? 0),
});
const goCounts = (out) => ({
  passed: (out.match(/^--- PASS/gm) ?? []).length,
  failed: (out.match(/^--- FAIL/gm) ?? []).length,
});
const pytestCounts = (out) => ({
  passed: Number(/(\d+) passed/.exec(out)?.[1] ?? 0),
  failed: Number(/(\d+) failed/.exec(out)?.[1] ?? 0) + Number(/(\d+) error/.exec(out)?.[1] ?? 0),
});
const isE2e = (f) => f.includes('/test/e2e/');
const isCluster = (f) => f.includes('/test/cluster/');
// Unit tests (test/**/unit/) touch no database: they run once, with the SQLite run.
const runNode = (db, extraEnv) => {
  const files = selected.filter((f) => !isE2e(f) && !isCluster(f) && (db === 'sqlite' || !f.includes('/unit/')));
  if (files.length === 0) return;
  console.log(`\n=== node tests on ${db} (${files.length} files) ===`);
  runCounted(process.execPath, ['--test', '--test-concurrency=2', ...files], { env: { ...process.env, OPENSTAGE_TEST_DB: db, ...extraEnv } }, nodeCounts);
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
const runCluster = (extraEnv) => {
  const own = selected.filter(isCluster);
  if (own.length > 0) {
    console.log(`\n=== cluster tests on postgres (${own.length} files, one at a time) ===`);
    runCounted(process.execPath, ['--test', '--test-concurrency=1', ...own], { env: { ...process.env, OPENSTAGE_TEST_DB: 'postgres', ...extraEnv } }, nodeCounts);
  }
  const flows = selected.filter((f) => CLUSTER_FLOWS.some((name) => f.includes(`/test/${name}`)));
  if (flows.length > 0) {
    console.log(`\n=== main flows on three servers behind a balancer, postgres (${flows.length} files) ===`);
    runCounted(process.execPath, ['--test', '--test-concurrency=2', ...flows], { env: { ...process.env, OPENSTAGE_TEST_DB: 'postgres', OPENSTAGE_TEST_CLUSTER: '3', ...extraEnv } }, nodeCounts);
  }
};
const runE2e = (extraEnv) => {
  const files = selected.filter(isE2e);
  if (files.length === 0) return;
  console.log(`\n=== end-to-end tests on sqlite (${files.length} files, one at a time) ===`);
  runCounted(process.execPath, ['--test', '--test-concurrency=1', ...files], { env: { ...process.env, OPENSTAGE_TEST_DB: 'sqlite', ...extraEnv } }, nodeCounts);
};

// PostgreSQL is started before the SQLite run: both runs get its admin URL, since tests on
// either database use it as the server of created (IaC) rds resources.
if (!only || only === 'sqlite' || only === 'postgres' || only === 'cluster' || only === 'e2e') {
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
    if (!only || only === 'sqlite') runNode('sqlite', { OPENSTAGE_TEST_PG_URL: url });
    if (!only || only === 'postgres') runNode('postgres', { OPENSTAGE_TEST_PG_URL: url });
    if (!only || only === 'cluster') runCluster({ OPENSTAGE_TEST_PG_URL: url });
    if (!only || only === 'e2e') runE2e({ OPENSTAGE_TEST_PG_URL: url });
  } finally {
    temp?.stop();
  }
}
if ((!only || only === 'compat') && !filter) {
  console.log('\n=== compat: go-chassis sc-client and kie-client ===');
  runCounted('bash', [join(root, 'compat', 'run-go.sh')], { cwd: root }, goCounts);
  console.log('\n=== compat: Huawei Cloud Python SDK ===');
  runCounted('bash', [join(root, 'compat', 'run-python.sh')], { cwd: root }, pytestCounts);
}
console.log(`\ntotal: ${totals.passed} passed, ${totals.failed} failed`);
process.exit(failed ? 1 : 0);
