import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request, Agent } from 'node:http';
import { describe, it } from 'node:test';
import { FakeClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/log.js';
import { StallGuard } from '../../src/registry/stall.js';
import { cliFixture } from '../helpers/cli.js';
import { until } from '../helpers/registry-client.js';

const CLI = new URL('../../src/cli.js', import.meta.url).pathname;

describe('StallGuard', () => {
  it('holds expiry, in clock time, for as long as a stall lasted; never on an ordinary gap', () => {
    let realMs = 0;
    const clock = new FakeClock(0);
    const guard = new StallGuard(2000, clock, createLogger('silent'), () => realMs);
    realMs += 250;
    clock.advance(250);
    assert.equal(guard.mayExpire(), true);
    realMs += 250 + 1500; // late, but under the threshold
    clock.advance(1750);
    assert.equal(guard.mayExpire(), true);
    realMs += 250 + 26_000; // SIGSTOP for 26 s
    clock.advance(26_250);
    assert.equal(guard.mayExpire(), false);
    clock.advance(25_999);
    realMs += 25_999;
    guard.observe(); // a 26 s gap again? no: observe() saw the last one; this is only its own timer's
    assert.equal(guard.mayExpire(), false, 'a fresh gap of 26 s would extend the hold; the hold itself still runs');
  });

  it('is off with a threshold of 0', () => {
    let realMs = 0;
    const guard = new StallGuard(0, new FakeClock(0), createLogger('silent'), () => realMs);
    realMs += 60_000;
    assert.equal(guard.mayExpire(), true);
  });
});

/** One JSON request on a keep-alive agent; never rejects (a refused or cut request is status 0). */
function send(agent: Agent, port: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, timeout: 30_000, headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: undefined }));
    req.end(data);
  });
}

describe('a stalled server does not expire every lease (issue #15, Nacos #7336)', () => {
  it('keeps 50 heartbeating instances through a 6 s SIGSTOP of the server (TTL 3 s), and still expires a dead one', async (t) => {
    const { dataDir, db, port } = await cliFixture(t);
    const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port), '--data-dir', dataDir, '--db', db, '--log-level', 'error'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, OPENSTAGE_REGISTRY_INSTANCE_MIN_INTERVAL_SECONDS: '1', OPENSTAGE_REGISTRY_INSTANCE_MIN_TIMES: '0' },
    });
    t.after(() => {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    });
    // Clients heartbeat over a few keep-alive connections: during a stall their heartbeats queue
    // behind the unanswered ones, and reach the server one round trip after another once it
    // resumes — when the sweeper has long run (the 2,000 expired instances of the issue).
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    t.after(() => agent.destroy());
    const R = '/v4/default/registry';
    await until(async () => (await send(agent, port, 'GET', '/version')).status === 200, 30_000);
    const serviceId = (await send(agent, port, 'POST', `${R}/microservices`, { service: { appId: 'stall', serviceName: 'svc', version: '1.0.0' } })).body.serviceId as string;
    const instance = (i: number) => ({ instance: { hostName: `h${i}`, endpoints: [`rest://10.0.0.1:${8000 + i}`], healthCheck: { mode: 'push', interval: 1, times: 2 } } });
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await send(agent, port, 'POST', `${R}/microservices/${serviceId}/instances`, instance(i))).body.instanceId);
    const dead = (await send(agent, port, 'POST', `${R}/microservices/${serviceId}/instances`, instance(99))).body.instanceId as string;

    // Each instance heartbeats every 500 ms, as clients would, whether or not the server reads them.
    let beating = true;
    const beats: Promise<unknown>[] = [];
    const beat = setInterval(() => {
      if (beating) for (const instanceId of ids) beats.push(send(agent, port, 'PUT', `${R}/microservices/${serviceId}/instances/${instanceId}/heartbeat`));
    }, 500);
    t.after(() => clearInterval(beat));
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 6000));
    child.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 3000));
    const listed = await send(agent, port, 'GET', `${R}/microservices/${serviceId}/instances`);
    beating = false;
    await Promise.all(beats);
    const alive = new Set((listed.body.instances ?? []).map((i: { instanceId: string }) => i.instanceId));
    const lost = ids.filter((id) => !alive.has(id));
    t.diagnostic(`after a 6 s SIGSTOP: ${ids.length - lost.length} of ${ids.length} heartbeating instances kept; the dead one ${alive.has(dead) ? 'still held' : 'expired'}`);
    assert.deepEqual(lost, [], 'no heartbeating instance expired');
    // The dead instance (no heartbeats) goes once the hold and its TTL are over.
    await until(async () => !((await send(agent, port, 'GET', `${R}/microservices/${serviceId}/instances`)).body.instances ?? []).some((i: { instanceId: string }) => i.instanceId === dead), 20_000);
  });
});
