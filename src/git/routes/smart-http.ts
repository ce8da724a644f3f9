import { spawn } from 'node:child_process';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { baseUrlOf, type GitPluginOptions } from '../index.js';
import { GIT_BASE_ENV } from '../providers/git-cli.js';
import { isLocalName } from '../providers/local.js';

/** The Git smart HTTP services OpenStage serves (no dumb HTTP). */
const SERVICE = /^\/([^/]+)\/([^/]+?)\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/;

function plain(reply: FastifyReply, status: number, text: string, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(status).headers(headers).type('text/plain; charset=utf-8').send(`${text}\n`);
}

/** `user:password` of a Basic Authorization header, or undefined. */
function basic(req: FastifyRequest): { user: string; password: string } | undefined {
  const h = req.headers.authorization;
  if (!h || !/^basic /i.test(h)) return undefined;
  const text = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * Git smart HTTP for repositories hosted by OpenStage, at
 * `/git/{project}/{namespace}/{repo}.git` (`git clone`, `git fetch`, `git push`). Every
 * request needs Basic credentials of one of the project's `local` authorizations (a password
 * authorization: its user and password; a private token: any user, the token as password).
 * Each request spawns `git http-backend` (CGI) with GIT_PROJECT_ROOT at the project's
 * directory and REMOTE_USER set (which enables receive-pack); bodies stream both ways.
 * After a push the moved branches are published and the repository's hooks delivered.
 */
export async function smartHttpPlugin(app: FastifyInstance, { git }: GitPluginOptions): Promise<void> {
  app.removeAllContentTypeParsers();
  // The body stays unread on request.raw and is streamed into the CGI.
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
  app.route({
    method: ['GET', 'POST'],
    url: '/:project/*',
    // A push or fetch streams to and from git for as long as it takes.
    config: { longPoll: true, keepUnderLoad: true },
    handler: async (req, reply) => {
      const { project } = req.params as { project: string };
      const rest = `/${(req.params as { '*': string })['*']}`;
      const m = SERVICE.exec(rest);
      if (!m || !isLocalName(m[1]!) || !isLocalName(m[2]!) || !/^[A-Za-z0-9_-]{1,64}$/.test(project)) return plain(reply, 404, 'Repository not found');
      const creds = basic(req);
      const checked = creds ? await git.checkBasic(project, creds.user, creds.password, req.ip) : {};
      if (checked.waitMs !== undefined) return plain(reply, 429, 'Too many failed logins; retry later', { 'retry-after': String(Math.max(1, Math.ceil(checked.waitMs / 1000))) });
      const user = checked.user;
      if (!user) return plain(reply, 401, 'Authentication required', { 'www-authenticate': 'Basic realm="OpenStage Git", charset="UTF-8"' });
      const [, namespace, repo, service] = m as unknown as [string, string, string, string];
      let dir: string;
      try {
        dir = git.repos.existing(project, namespace, repo);
      } catch {
        return plain(reply, 404, 'Repository not found');
      }
      const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
      const isPush = service === 'git-receive-pack';
      const before = isPush ? await git.repos.heads(dir) : undefined;
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ...GIT_BASE_ENV,
        GIT_PROJECT_ROOT: git.repos.projectDir(project),
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: rest,
        REQUEST_METHOD: req.method,
        QUERY_STRING: query,
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_USER: user,
        REMOTE_ADDR: req.ip,
        GATEWAY_INTERFACE: 'CGI/1.1',
        SERVER_PROTOCOL: 'HTTP/1.1',
      };
      if (req.headers['content-length']) env.CONTENT_LENGTH = String(req.headers['content-length']);
      if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = String(req.headers['content-encoding']);
      if (req.headers['git-protocol']) env.GIT_PROTOCOL = String(req.headers['git-protocol']);
      reply.hijack();
      const exit = await runCgi(env, req.method === 'POST' ? req.raw : undefined, reply, req);
      if (isPush && exit === 0) {
        const after = await git.repos.heads(dir);
        await git.pushed(project, namespace, repo, before!, after, baseUrlOf(req), user);
      }
    },
  });
}

/**
 * A CGI that answers before reading its input (415 for a wrong Content-Type, an early error)
 * leaves the rest of the request body unread, and the next request on that keep-alive
 * connection waited behind it (~73 s, issue #15 M3): the rest is read and dropped instead, and
 * the connection stays bounded by the server's request timeout.
 */
function discardUnreadBody(body: Readable | undefined): void {
  if (!body || body.readableEnded) return;
  body.unpipe();
  body.on('data', () => undefined);
  body.resume();
}

/** Runs `git http-backend`, relays its CGI headers and streams its body. @returns the exit code */
function runCgi(env: Record<string, string>, body: Readable | undefined, reply: FastifyReply, req: FastifyRequest): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const res = reply.raw;
    let head = Buffer.alloc(0);
    let headersSent = false;
    const stderr: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersSent) {
        if (!res.write(chunk)) {
          child.stdout.pause();
          res.once('drain', () => child.stdout.resume());
        }
        return;
      }
      head = Buffer.concat([head, chunk]);
      let end = head.indexOf('\r\n\r\n');
      let sep = 4;
      if (end < 0) {
        end = head.indexOf('\n\n');
        sep = 2;
      }
      if (end < 0) return;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i <= 0) continue;
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      headersSent = true;
      const restOfBody = head.subarray(end + sep);
      if (restOfBody.length > 0) res.write(restOfBody);
    });
    child.on('error', (err) => {
      req.log.error({ err }, 'git http-backend failed to start');
      if (!headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end();
      resolve(-1);
    });
    child.on('close', (code) => {
      if (!headersSent) {
        req.log.error({ code, stderr: Buffer.concat(stderr).toString('utf8').slice(0, 2000) }, 'git http-backend sent no headers');
        res.writeHead(500, { 'content-type': 'text/plain' });
      }
      res.end();
      discardUnreadBody(body);
      resolve(code ?? -1);
    });
    child.stdin.on('error', () => undefined);
    if (body) body.pipe(child.stdin);
    else child.stdin.end();
  });
}
