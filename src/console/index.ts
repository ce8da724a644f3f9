import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Where `npm run build` puts the console's bundle (vite, web/vite.config.ts): dist/web. */
export const CONSOLE_ROOT = new URL('../../web/', import.meta.url).pathname;

/** What the console plugin needs. */
export interface ConsolePluginOptions {
  /** The bundle's folder (index.html, assets/); default CONSOLE_ROOT. */
  root?: string;
}

// The bundle's own files only: no inline scripts, no other origin (everything is bundled).
// Mantine sets styles through the style attribute, hence 'unsafe-inline' for styles alone.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/**
 * The web console (issue #19): the single-page app built from web/ into dist/web, served at
 * `/console/` on the API port. Hashed files under `assets/` are cached for a year as
 * immutable; index.html, which names them, is `no-cache` (revalidated each load). Files are
 * sent precompressed (`.br`, `.gz` written by scripts/compress-web.mjs) when the browser
 * accepts it. Any other path under /console/ is a client-side route and gets index.html;
 * a missing asset is a plain 404. Without a built bundle /console/ answers 404 with a hint.
 */
export async function consolePlugin(app: FastifyInstance, opts: ConsolePluginOptions): Promise<void> {
  const root = opts.root ?? CONSOLE_ROOT;
  if (!existsSync(join(root, 'index.html'))) {
    app.get('/console/*', async (_req, reply) => reply.code(404).type('text/plain; charset=utf-8').send('the console is not built: run npm run build'));
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/console/',
    wildcard: false,
    index: false,
    preCompressed: true,
    cacheControl: false,
    setHeaders: (res, path) => {
      res.header('Cache-Control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      res.header('X-Content-Type-Options', 'nosniff');
    },
  });
  const sendIndex = (reply: import('fastify').FastifyReply) =>
    reply.header('Cache-Control', 'no-cache').header('Content-Security-Policy', CSP).header('X-Content-Type-Options', 'nosniff').sendFile('index.html');
  app.get('/console', async (req, reply) => (req.url === '/console' ? reply.redirect('/console/', 302) : sendIndex(reply)));
  app.get('/console/*', async (req, reply) => {
    if (req.url.startsWith('/console/assets/')) return reply.code(404).type('text/plain; charset=utf-8').send('404 page not found');
    return sendIndex(reply);
  });
}
