import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TestContext } from 'node:test';
import { fixtureDir, HOST_ENV } from './server.js';

/**
 * A component for route tests (plain Node.js, no dependencies): GET / answers its version and
 * instance, `/health` its readiness, `/log?text=X` prints X to its log, `/stream` writes
 * `first` and holds the response open until a `/release`, POST echoes the size of its body,
 * and an HTTP upgrade is a WebSocket that echoes text frames with its version. It exits at
 * once on SIGTERM (no graceful close): only the route's draining keeps requests from failing.
 */
export const ROUTE_APP = String.raw`
const http = require('node:http');
const crypto = require('node:crypto');
const version = process.env.CAS_INSTANCE_VERSION;
const instance = process.env.CAS_INSTANCE_ID;
const held = [];
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/health') return res.end('ok');
  if (url.pathname === '/log') { console.log(url.searchParams.get('text')); return res.end('logged'); }
  if (url.pathname === '/stream') { res.writeHead(200, { 'content-type': 'text/plain' }); res.write('first\n'); held.push(res); return; }
  if (url.pathname === '/release') { for (const r of held.splice(0)) r.end('last\n'); return res.end('released'); }
  if (url.pathname === '/slow') return setTimeout(() => res.end(JSON.stringify({ version, instance })), Number(url.searchParams.get('ms') || 300));
  if (req.method === 'POST') { let n = 0; req.on('data', (d) => (n += d.length)); req.on('end', () => res.end(JSON.stringify({ version, instance, received: n }))); return; }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ version, instance, host: req.headers.host, forwardedFor: req.headers['x-forwarded-for'] || '' }));
});
server.on('upgrade', (req, socket) => {
  const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' + accept + '\r\n\r\n');
  socket.on('data', (buf) => {
    if ((buf[0] & 0x0f) !== 1) return socket.end();
    const len = buf[1] & 0x7f;
    const mask = buf.subarray(2, 6);
    const text = Buffer.from(buf.subarray(6, 6 + len).map((b, i) => b ^ mask[i % 4])).toString();
    const out = Buffer.from('echo ' + version + ': ' + text);
    socket.write(Buffer.concat([Buffer.from([0x81, out.length]), out]));
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('route-app ' + version + ' listening on ' + process.env.PORT));
process.on('SIGTERM', () => process.exit(0));
`;

/** A file:// git repository (branch main) holding ROUTE_APP, removed after the test. */
export function routeAppRepo(t: TestContext): string {
  const dir = fixtureDir(t, 'route-app-');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'route-app', version: '1.0.0', private: true, main: 'server.js' }));
  writeFileSync(join(dir, 'server.js'), ROUTE_APP);
  const env = { ...HOST_ENV, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir, env });
  execFileSync('git', ['add', '.'], { cwd: dir, env });
  execFileSync('git', ['commit', '-q', '-m', 'first'], { cwd: dir, env });
  return pathToFileURL(dir).toString();
}

/** An answer through a route. */
export interface RouteReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 16 });

/**
 * Sends a request to the server at `port` with the Host header `host` (a route's host name:
 * `*.localhost` names need no DNS, but Node's resolver does not know them).
 */
export function viaRoute(port: number, host: string, path = '/', options: { method?: string; body?: string; agent?: Agent; headers?: Record<string, string> } = {}): Promise<RouteReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', agent: options.agent ?? keepAlive, headers: { ...options.headers, host, ...(options.body !== undefined ? { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(options.body) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The http route of a component's GET body (`status.routes`), asserted present. */
export function httpRoute(component: any): { host: string; url: string } {
  const r = (component.status?.routes ?? []).find((x: any) => x.type === 'http');
  assert.ok(r, `no http route in ${JSON.stringify(component.status)}`);
  return r;
}
