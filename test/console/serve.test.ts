import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { CONSOLE_ROOT, consolePlugin } from '../../src/console/index.js';
import { startServer } from '../helpers/server.js';

// How the console's bundle is served (src/console/index.ts): caching headers, precompressed
// files, client routes, and the first-load size the issue bounds (≤ 1 MB compressed).
describe('GET /console/', () => {
  it('serves index.html no-cache with a CSP, hashed assets immutable and precompressed, client routes as index.html', async (t) => {
    const s = await startServer(t, { auth: 'none' });
    const redirect = await fetch(`${s.url}/console`, { redirect: 'manual' });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get('location'), '/console/');
    const index = await fetch(`${s.url}/console/`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const html = await index.text();
    assert.equal(html, readFileSync(join(CONSOLE_ROOT, 'index.html'), 'utf8'));
    const route = await fetch(`${s.url}/console/applications/abc/components/def`);
    assert.equal(route.status, 200);
    assert.equal(await route.text(), html);
    // Everything index.html loads at once: immutable, brotli when asked, and ≤ 1 MB compressed in all.
    const first = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(first.some((f) => f.endsWith('.js')) && first.some((f) => f.endsWith('.css')), html);
    let compressed = Buffer.byteLength(html);
    for (const path of first) {
      const r = await fetch(`${s.url}${path}`, { headers: { 'accept-encoding': 'br' } });
      assert.equal(r.status, 200, path);
      assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(r.headers.get('content-encoding'), 'br');
      compressed += readFileSync(join(CONSOLE_ROOT, `${path.slice('/console/'.length)}.br`)).length;
      assert.deepEqual(Buffer.from(await r.arrayBuffer()), readFileSync(join(CONSOLE_ROOT, path.slice('/console/'.length))), 'fetch decodes what it was sent');
    }
    assert.ok(compressed <= 1024 * 1024, `first load ${compressed} bytes compressed`);
    const missing = await fetch(`${s.url}/console/assets/nope-123.js`);
    assert.equal(missing.status, 404);
    assert.ok(readdirSync(join(CONSOLE_ROOT, 'assets')).length > 0);
  });

  it('answers 404 naming npm run build when no bundle was built', async () => {
    const root = mkdtempSync(join(tmpdir(), 'openstage-no-console-'));
    const app = Fastify();
    await app.register(consolePlugin, { root });
    const r = await app.inject({ method: 'GET', url: '/console/' });
    assert.equal(r.statusCode, 404);
    assert.match(r.body, /npm run build/);
    await app.close();
    rmSync(root, { recursive: true, force: true });
  });
});
