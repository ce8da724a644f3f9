import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

// The layering rules of STYLE.md §1, checked over the TypeScript sources.
const root = resolve(new URL('../../../', import.meta.url).pathname);
const src = join(root, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Imports of a file: [specifier, resolved path relative to src (for relative specifiers)]. */
function imports(file: string): { spec: string; target?: string }[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map((m) => {
    const spec = m[1]!;
    return { spec, target: spec.startsWith('.') ? relative(src, resolve(dirname(file), spec)).replace(/\.js$/, '.ts') : undefined };
  });
}

const all = files(src).map((f) => ({ path: relative(src, f), imports: imports(f) }));
const area = (path: string): string => path.split('/')[0]!;

describe('module boundaries (STYLE.md §1)', () => {
  it('core imports no area', () => {
    for (const f of all.filter((f) => f.path.startsWith('core/'))) {
      for (const i of f.imports) if (i.target) assert.ok(i.target.startsWith('core/'), `${f.path} imports ${i.spec}`);
    }
  });

  it('a store.ts is imported only by the service files of its own area', () => {
    assert.ok(all.some((f) => f.imports.some((i) => i.target?.endsWith('store.ts'))), 'the scan sees store imports');
    for (const f of all) {
      for (const i of f.imports.filter((i) => i.target?.endsWith('store.ts'))) {
        assert.equal(area(i.target!), area(f.path), `${f.path} imports ${i.spec}`);
        assert.ok(/service\.ts$/.test(f.path), `${f.path} imports ${i.spec}; only services may`);
      }
    }
  });

  it('only index.ts, routes and the composition root import fastify', () => {
    for (const f of all) {
      const usesFastify = f.imports.some((i) => i.spec === 'fastify' || i.spec.startsWith('@fastify/'));
      if (!usesFastify) continue;
      const allowed = f.path === 'server.ts' || f.path.endsWith('/index.ts') || f.path.includes('/routes/') || f.path.endsWith('routes.ts') || f.path.startsWith('core/wire/') || f.path === 'core/log.ts' || f.path === 'core/raw-body.ts';
      assert.ok(allowed, `${f.path} imports fastify`);
    }
  });

  it('the CLI client (src/cli/) uses the server only through HTTP: it imports core, the signing algorithm and, for serve, the composition root', () => {
    for (const f of all.filter((f) => f.path.startsWith('cli/'))) {
      for (const i of f.imports) {
        if (!i.target || i.target.startsWith('cli/') || i.target.startsWith('core/')) continue;
        assert.ok(['iam/signature.ts', 'iam/service.ts', 'server.ts', 'version.ts'].includes(i.target), `${f.path} imports ${i.spec}`);
      }
    }
  });

  it('an area reaches another area only through its service or types', () => {
    for (const f of all.filter((f) => !f.path.startsWith('core/') && !f.path.startsWith('cli/') && f.path.includes('/'))) {
      for (const i of f.imports) {
        if (!i.target || !i.target.includes('/') || area(i.target) === 'core' || area(i.target) === area(f.path)) continue;
        assert.ok(/(service|types)\.ts$/.test(i.target), `${f.path} imports ${i.spec}`);
      }
    }
  });
});
