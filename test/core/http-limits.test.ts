import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { ADMIN, IAM_OVERRIDES } from '../helpers/iam-client.js';
import { cliFixture } from '../helpers/cli.js';
import { call, until } from '../helpers/registry-client.js';
import { startServer } from '../helpers/server.js';

const CLI = new URL('../../src/cli.js', import.meta.url).pathname;

/** Opens a connection from `localAddress` and sends `text` (a request head without its end). */
function halfSent(port: number, text: string, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress }, () => {
      socket.write(text);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

/**
 * What the server sends on `socket` until it closes it, and after how many milliseconds
 * (undefined: still open after `waitMs`, and then closed here, so that a failing test does not
 * hold the server's close).
 */
function untilClosed(socket: Socket, waitMs: number): Promise<{ text: string; ms?: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text });
    }, waitMs);
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, ms: performance.now() - started });
    });
    socket.on('error', () => undefined);
  });
}

/** GET `path` from `localAddress`; rejects after `timeoutMs`. */
function getFrom(port: number, path: string, localAddress: string, timeoutMs: number): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

describe('request head timeout (issue #15 H1)', () => {
  it('answers a half-sent request 408 in the addressed API\'s format and closes it after http.headersTimeoutMs', async (t) => {
    const srv = await startServer(t, { ...IAM_OVERRIDES, 'http.headersTimeoutMs': 1000 });
    const port = Number(new URL(srv.url).port);
    const registry = await untilClosed(await halfSent(port, 'GET /v4/default/registry/microservices HTTP/1.1\r\nHost: x\r\n'), 10_000);
    const cas = await untilClosed(await halfSent(port, `GET /v3/${ADMIN.projectId}/cas/applications HTTP/1.1\r\nHost: x\r\n`), 10_000);
    for (const closed of [registry, cas]) assert.ok(closed.ms !== undefined && closed.ms < 5000, `closed after ${closed.ms} ms (Node's defaults kept it 60 s)`);
    assert.match(registry.text, /^HTTP\/1\.1 408 /);
    assert.match(registry.text, /"errorCode":"408001"/);
    assert.match(cas.text, /^HTTP\/1\.1 408 /);
    assert.match(cas.text, /"error_code":"APIGW\.0408"/);
  });
});

describe('idle timeout (issue #15 H1)', () => {
  it('closes a request whose body stops arriving after http.idleTimeoutMs, and leaves a Kie long poll alone', async (t) => {
    const srv = await startServer(t, { 'http.idleTimeoutMs': 1000 });
    const port = Number(new URL(srv.url).port);
    const stalled = await untilClosed(await halfSent(port, 'POST /v4/default/registry/microservices HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"serv'), 10_000);
    assert.ok(stalled.ms !== undefined && stalled.ms < 5000, `closed after ${stalled.ms} ms`);

    const kv = await call(srv.url, 'POST', '/v1/default/kie/kv', { body: { key: 'k', value: 'v', labels: { app: 'idle' } } });
    const revision = Number(kv.body.update_revision);
    const poll = call(srv.url, 'GET', `/v1/default/kie/kv?label=app:idle&revision=${revision}&wait=30s`);
    await new Promise((r) => setTimeout(r, 2500)); // silent for over twice the idle timeout
    srv.clock.advance(30_000);
    assert.equal((await poll).status, 304, 'the held poll was answered, not cut');
  });
});

describe('a request header over 16 KB (issue #15 L6)', () => {
  const cases: [string, string, RegExp][] = [
    ['the registry', '/v4/default/registry/microservices', /^\{"errorCode":"431001","errorMessage":"Request header fields too large"/],
    ['the config center', '/v1/default/kie/kv', /^\{\n "errorCode": "431001",/],
    ['ServiceStage', `/v3/${ADMIN.projectId}/cas/applications`, /^\{"error_code":"APIGW\.0431","error_msg":"Request header fields too large/],
    ['ServiceStage v2', `/v2/${ADMIN.projectId}/cas/applications`, /^\{"error_code":"APIGW\.0431","error_msg":"Request header fields too large/],
    ['Git', `/v1/${ADMIN.projectId}/git/repos`, /^\{"error_code":"APIGW\.0431","error_msg":"Request header fields too large/],
    ['engine management', `/v2/${ADMIN.projectId}/cseEngines/default/tags/create`, /^\{"error_code":"APIGW\.0431","error_msg":"Request header fields too large/],
    ['IAM', '/v3/auth/tokens', /^\{"error":\{"code":431,.*"title":"Request Header Fields Too Large"\},"error_code":"APIGW\.0431"/],
  ];
  for (const [api, path, body] of cases) {
    it(`answers 431 in the format of ${api}`, async (t) => {
      const srv = await startServer(t, IAM_OVERRIDES);
      const closed = await untilClosed(await halfSent(Number(new URL(srv.url).port), `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`), 10_000);
      assert.match(closed.text, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
      assert.match(closed.text.slice(closed.text.indexOf('\r\n\r\n') + 4), body);
    });
  }
});

describe('connections past the cap (issue #15 H1)', () => {
  it('keeps serving other clients while 1,100 half-sent requests are open, with ulimit -n 1024 (a child process)', async (t) => {
    const { dataDir, db, port } = await cliFixture(t);
    // H1_BASELINE=1 runs the child without the cap and with Node's header timeout, to see the lockout (ECONNRESET).
    const baseline = process.env.H1_BASELINE ? 'OPENSTAGE_HTTP_MAX_CONNECTIONS=100000 OPENSTAGE_HTTP_HEADERS_TIMEOUT_MS=60000 ' : '';
    const child = spawn('sh', ['-c', `ulimit -n 1024 && ${baseline}exec "${process.execPath}" "${CLI}" serve --port ${port} --data-dir "${dataDir}" --db "${db}" --log-level error`], { stdio: ['ignore', 'ignore', 'inherit'] });
    t.after(() => child.kill('SIGKILL'));
    await until(async () => (await getFrom(port, '/version', '127.0.0.1', 1000).catch(() => undefined))?.status === 200, 30_000);

    const held: Socket[] = [];
    t.after(() => held.forEach((s) => s.destroy()));
    for (let i = 0; i < 1100; i++) {
      const s = await halfSent(port, 'GET /version HTTP/1.1\r\nHost: x\r\n', '127.0.0.2').catch(() => undefined);
      if (s) held.push(s);
    }
    // Let them stall (idle or half-sent for over a second is what may be evicted).
    await new Promise((r) => setTimeout(r, 1500));
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await getFrom(port, '/version', '127.0.0.1', 3000));
    t.diagnostic(`/version with 1,100 half-sent requests open: ${answers.map((a) => `${a.status} in ${a.ms.toFixed(0)} ms`).join(', ')}`);
    for (const a of answers) assert.equal(a.status, 200);
  });
});
