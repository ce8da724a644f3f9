// `npm start`'s pre-step: compiles with tsc only when a source is newer than the last build
// (.ts/.tsx/.css/.html under src/, test/, bench/, web/; tsconfig.json, package.json), so a start from an unchanged
// tree takes no compile time. The last successful build is marked by dist/.build-stamp.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
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
    else if (/\.(ts|tsx|css|html)$/.test(entry.name)) max = Math.max(max, statSync(p).mtimeMs);
  }
  return max;
}

const sources = Math.max(newest(join(root, 'src')), newest(join(root, 'test')), newest(join(root, 'bench')), newest(join(root, 'web')), ...['tsconfig.json', 'package.json'].map((f) => statSync(join(root, f)).mtimeMs));
const built = existsSync(stamp) && existsSync(join(root, 'dist', 'src', 'cli.js')) && existsSync(join(root, 'dist', 'web', 'index.html')) ? statSync(stamp).mtimeMs : 0;
if (built >= sources) {
  console.log('build is up to date (dist/); skipping tsc');
  process.exit(0);
}
console.log('sources changed since the last build: npm run build (tsc and the console bundle)…');
const started = Date.now();
const r = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit', cwd: root });
if (r.status !== 0) process.exit(r.status ?? 1);
console.log(`compiled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
