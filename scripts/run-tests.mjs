// The whole test suite (`npm test`): the HTTP-level tests on SQLite, then on PostgreSQL,
// then the compat tests with official clients. PostgreSQL comes from OPENSTAGE_TEST_PG_URL
// (an admin URL; each test server gets its own database) or, when unset, from a throw-away
// cluster started here. OPENSTAGE_TEST_ONLY=sqlite|postgres|compat runs one part.
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

let failed = false;
const runNode = (db, extraEnv) => {
  console.log(`\n=== node tests on ${db} (${selected.length} files) ===`);
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...selected], {
    stdio: 'inherit',
    env: { ...process.env, OPENSTAGE_TEST_DB: db, ...extraEnv },
  });
  if (r.status !== 0) failed = true;
};

if (!only || only === 'sqlite') runNode('sqlite', {});
if (!only || only === 'postgres') {
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
    runNode('postgres', { OPENSTAGE_TEST_PG_URL: url });
  } finally {
    temp?.stop();
  }
}
if ((!only || only === 'compat') && !filter) {
  console.log('\n=== compat: go-chassis sc-client ===');
  const r = spawnSync('bash', [join(root, 'compat', 'run-go.sh')], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
