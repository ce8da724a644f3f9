import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { ADMIN, IAM_OVERRIDES, login } from '../helpers/iam-client.js';
import { call } from '../helpers/registry-client.js';
import { startServer } from '../helpers/server.js';

/**
 * Sends a request's head and only the first `sentBytes` of a body announced as `length`
 * bytes, then resolves with what the server answers (or '' when it says nothing within
 * `waitMs` — it is still waiting for the body).
 */
function halfSentBody(base: string, head: string, length: number, sentBytes: number, waitMs: number): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`${head}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`);
      socket.write('['.repeat(sentBytes));
    });
    let out = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(out);
    }, waitMs);
    socket.on('data', (d) => {
      out += d.toString();
      if (out.includes('\r\n\r\n') && /\}\s*$/.test(out)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(out);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

describe('bodies are read only for authenticated callers (issue #15 H2)', () => {
  const areas: [string, string][] = [
    ['ServiceStage', `POST /v3/${ADMIN.projectId}/cas/applications HTTP/1.1\r\nHost: x`],
    ['ServiceStage v2', `POST /v2/${ADMIN.projectId}/cas/applications HTTP/1.1\r\nHost: x`],
    ['ServiceStage jobs', `POST /v3/${ADMIN.projectId}/cas/jobs/JOB-x/action HTTP/1.1\r\nHost: x`],
    ['engine tags', `POST /v2/${ADMIN.projectId}/cseEngines/default/tags/create HTTP/1.1\r\nHost: x`],
    ['Git', `POST /v1/${ADMIN.projectId}/git/repos/ns/projects HTTP/1.1\r\nHost: x`],
    ['engine management', `POST /v2/${ADMIN.projectId}/enginemgr/engines HTTP/1.1\r\nHost: x`],
    ['config import', `POST /v1/${ADMIN.projectId}/kie/file HTTP/1.1\r\nHost: x`],
    ['ServiceStage, with a bad token', `POST /v3/${ADMIN.projectId}/cas/applications HTTP/1.1\r\nHost: x\r\nX-Auth-Token: MIInot-a-token`],
    ['ServiceStage, with a signature of an unknown key', `POST /v3/${ADMIN.projectId}/cas/applications HTTP/1.1\r\nHost: x\r\nX-Sdk-Date: 20260101T000000Z\r\nAuthorization: SDK-HMAC-SHA256 Access=NOSUCHKEY000, SignedHeaders=host;x-sdk-date, Signature=00`],
  ];
  for (const [area, head] of areas) {
    it(`${area}: a body announced without valid credentials is answered 401 before it arrives`, async (t) => {
      const srv = await startServer(t, IAM_OVERRIDES);
      const answer = await halfSentBody(srv.url, head, 32 * 1024, 100, 5_000);
      assert.match(answer, /^HTTP\/1\.1 401 /, answer || 'no answer: the server waited for the body');
      assert.match(answer, /APIGW\.0301/);
    });
  }
});

describe('each area\'s body limit is what its API needs (issue #15 H2)', () => {
  const cases: [string, string, number, string][] = [
    ['engine management', `/v2/${ADMIN.projectId}/enginemgr/engines`, 64 * 1024, 'SVCSTG.00500400'],
    ['ServiceStage', `/v3/${ADMIN.projectId}/cas/applications`, 4 * 1024 * 1024, 'SVCSTG.00100400'],
    ['IAM', '/v3/auth/tokens', 64 * 1024, 'IAM.0001'],
  ];
  for (const [area, path, limit, code] of cases) {
    it(`${area}: ${limit} bytes at most (400 ${code} past it)`, async (t) => {
      const srv = await startServer(t, IAM_OVERRIDES);
      const token = (await login(srv.url, ADMIN.name, ADMIN.password)).headers.get('x-subject-token')!;
      const body = JSON.stringify({ name: 'x'.repeat(limit) });
      const r = await call(srv.url, 'POST', path, { body, headers: { 'x-auth-token': token } });
      assert.equal(r.status, 400, r.text.slice(0, 200));
      assert.equal(r.body.error_code, code);
    });
  }
});

/** Sends `chunks` as one request body (chunked unless `length` is given); resolves with the status, or 0 when the server closed first. */
function sendBody(base: string, path: string, chunks: Buffer[], headers: Record<string, string | number> = {}): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const req = request({ host: hostname, port: Number(port), method: 'POST', path, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe('a large body answered before it is read does not end the server (issue #15 H2, review)', () => {
  it('a body over the limit that nests too deep after it, announced or chunked: 400 or closed, and the server keeps answering', async (t) => {
    const srv = await startServer(t);
    const deep = Buffer.alloc(3_000_000, '[');
    const announced = await sendBody(srv.url, '/v4/default/registry/microservices', [deep], { 'content-length': deep.length });
    assert.ok(announced === 400 || announced === 0, `status ${announced}`);
    const late = [Buffer.alloc(2_200_000, ' '), Buffer.alloc(200, '[')];
    const chunked = await sendBody(srv.url, '/v4/default/registry/microservices', late);
    assert.ok(chunked === 400 || chunked === 0, `status ${chunked}`);
    // The rest of each body still arrives at the scanning stream after the answer.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await call(srv.url, 'GET', '/version')).status, 200);
  });

  it('a large multipart body is not scanned as JSON, whatever the case of its media type', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES);
    const token = (await login(srv.url, ADMIN.name, ADMIN.password)).headers.get('x-subject-token')!;
    const boundary = 'b0undary';
    const file = Buffer.alloc(70_000, '[');
    const body = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="upload_file"; filename="x.zip"\r\nContent-Type: application/octet-stream\r\n\r\n`), file, Buffer.from(`\r\n--${boundary}--\r\n`)]);
    const { hostname, port } = new URL(srv.url);
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({ host: hostname, port: Number(port), method: 'POST', path: `/v3/${ADMIN.projectId}/cas/configs/import`, headers: { 'x-auth-token': token, 'content-type': `Multipart/Form-Data; boundary=${boundary}`, 'content-length': body.length } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(answer.status, 400, answer.text);
    assert.doesNotMatch(answer.text, /nests deeper/, 'the multipart body reached its own parser, not the nesting scan');
    assert.match(answer.text, /zip/, 'the import parser read the file (it is not a zip archive)');
  });
});

describe('deep JSON does not stall the event loop (issue #15 H2)', () => {
  it('/version keeps answering while four 12 MB [[[…]]] bodies arrive at an unauthenticated route (sent by another process)', async (t) => {
    const srv = await startServer(t, { ...IAM_OVERRIDES, 'git.webhookSecret': 'x' });
    const url = `${srv.url}/v1/${ADMIN.projectId}/git/webhooks`;
    // The load comes from a child process, so that building and sending 48 MB does not stall the measuring loop.
    const sender = spawn(process.execPath, ['--input-type=module', '-e', `
      const deep = '['.repeat(12 * 1024 * 1024);
      const answers = await Promise.all(Array.from({ length: 4 }, () => fetch(${JSON.stringify(url)}, { method: 'POST', body: deep, headers: { 'x-github-event': 'push', 'content-type': 'application/json' } }).then(async (r) => ({ status: r.status, body: await r.json() }))));
      process.stdout.write(JSON.stringify(answers));
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    sender.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => sender.on('close', resolve));
    let worstMs = 0;
    let polls = 0;
    let running = true;
    void exited.then(() => (running = false));
    while (running) {
      const started = performance.now();
      assert.equal((await call(srv.url, 'GET', '/version')).status, 200);
      worstMs = Math.max(worstMs, performance.now() - started);
      polls++;
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(await exited, 0);
    const answers = JSON.parse(output) as { status: number; body: { error_msg: string } }[];
    assert.equal(answers.length, 4);
    for (const a of answers) {
      assert.equal(a.status, 400);
      assert.match(a.body.error_msg, /nests deeper than 64 levels/);
    }
    t.diagnostic(`worst /version latency while 4 × 12 MB deep bodies arrived: ${worstMs.toFixed(1)} ms over ${polls} polls (it was 6–9 s)`);
    // The target is 100 ms (met on an idle machine: ~10 ms, a deep body is refused at
    // its first chunk); on a shared 2-core CI machine a bare /version poll alone sees 300 ms
    // hiccups, so the bound separates "served" from the stall of seconds it was.
    assert.ok(worstMs < 1000, `worst /version latency ${worstMs} ms`);
  });
});
