// `npm start`'s pre-step: compiles with tsc only when a source is newer than the last build
// (src/, test/, bench/ .ts files, tsconfig.json, package.json), so a start from an unchanged
// tree takes no compile time. The last successful build is marked by dist/.build-stamp.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const stamp = join(root, 'dist', '.build-stamp');

/** Newest modification time (ms) of the .ts files under `dir`. */
function newest(dir) {
  let max = 0;
  if (!existsSync(dir)) return max;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) max = Math.max(max, newest(p));
    else if (entry.name.endsWith('.ts')) max = Math.max(max, statSync(p).mtimeMs);
  }
  return max;
}

const sources = Math.max(newest(join(root, 'src')), newest(join(root, 'test')), newest(join(root, 'bench')), ...['tsconfig.json', 'package.json'].map((f) => statSync(join(root, f)).mtimeMs));
const built = existsSync(stamp) && existsSync(join(root, 'dist', 'src', 'cli.js')) ? statSync(stamp).mtimeMs : 0;
if (built >= sources) {
  console.log('build is up to date (dist/); skipping tsc');
  process.exit(0);
}
console.log('sources changed since the last build: compiling with tsc…');
const started = Date.now();
const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
writeFileSync(stamp, `${new Date().toISOString()}\n`);
console.log(`compiled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
