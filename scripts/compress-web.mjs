// After `vite build`: writes .br and .gz beside every text file of the console's bundle
// (dist/web), so that the server sends them precompressed (src/console/index.ts), and prints
// the first-load size: index.html plus what it loads at once, compressed (issue #19: ≤ 1 MB).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = new URL('../dist/web/', import.meta.url).pathname;
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(html|js|css|svg|json|txt|map)$/.test(name)) files.push(p);
  }
};
walk(root);
const sizes = new Map();
for (const f of files) {
  const bytes = readFileSync(f);
  const br = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } });
  writeFileSync(`${f}.br`, br);
  writeFileSync(`${f}.gz`, gzipSync(bytes, { level: 9 }));
  sizes.set(relative(root, f), { raw: bytes.length, br: br.length });
}
// First load: index.html, the entry script, its stylesheet and the modules it preloads.
const html = readFileSync(join(root, 'index.html'), 'utf8');
const first = ['index.html', ...[...html.matchAll(/(?:src|href)="\/console\/([^"]+)"/g)].map((m) => m[1])];
const total = first.reduce((n, f) => n + (sizes.get(f)?.br ?? 0), 0);
console.log(`console bundle: ${files.length} files; first load ${first.length} files, ${(total / 1024).toFixed(0)} KiB brotli`);
