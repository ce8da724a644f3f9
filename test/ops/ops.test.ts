import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startCas } from '../helpers/cas-client.js';
import { call } from '../helpers/registry-client.js';
import { startServer } from '../helpers/server.js';

/** The value of one sample of a Prometheus text exposition (`name{labels}`), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels);
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (want.every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

async function metrics(url: string): Promise<string> {
  const r = await fetch(`${url}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return r.text();
}

describe('GET /metrics', () => {
  it('counts requests by area, route and status, registry and config center figures after known traffic', async (t) => {
    const srv = await startServer(t);
    const reg = '/v4/default/registry';
    const svc = await call(srv.url, 'POST', `${reg}/microservices`, { body: { service: { appId: 'm', serviceName: 'metered', version: '1.0.0' } } });
    const inst = await call(srv.url, 'POST', `${reg}/microservices/${svc.body.serviceId}/instances`, { body: { instance: { hostName: 'h', endpoints: ['rest://127.0.0.1:1'], healthCheck: { mode: 'push', interval: 5, times: 3 } } } });
    assert.equal(inst.status, 200, inst.text);
    for (let i = 0; i < 3; i++) assert.equal((await call(srv.url, 'PUT', `${reg}/microservices/${svc.body.serviceId}/instances/${inst.body.instanceId}/heartbeat`)).status, 200);
    assert.equal((await call(srv.url, 'PUT', `${reg}/microservices/${svc.body.serviceId}/instances/nope/heartbeat`)).status, 400);
    for (const key of ['a', 'b']) assert.equal((await call(srv.url, 'POST', '/v1/default/kie/kv', { body: { key, value: '1', labels: { app: 'm' } } })).status, 200);
    assert.equal((await fetch(`${srv.url}/no/such/route`)).status, 404);
    // A held long poll is counted while it waits.
    const held = fetch(`${srv.url}/v1/default/kie/kv?label=app:m&revision=2&wait=30s`);
    let text = '';
    for (let i = 0; i < 50 && sample(text, 'openstage_kie_held_polls') !== 1; i++) text = await metrics(srv.url);

    const hb = { area: 'registry', route: '/v4/:project/registry/microservices/:serviceId/instances/:instanceId/heartbeat', method: 'PUT' };
    assert.equal(sample(text, 'openstage_http_request_duration_seconds_count', { ...hb, status: '200' }), 3);
    assert.equal(sample(text, 'openstage_http_request_duration_seconds_count', { ...hb, status: '400' }), 1);
    assert.equal(sample(text, 'openstage_http_request_duration_seconds_bucket', { ...hb, status: '200', le: '+Inf' }), 3);
    assert.equal(sample(text, 'openstage_http_request_duration_seconds_count', { area: 'kie', route: '/v1/:project/kie/kv', method: 'POST', status: '200' }), 2);
    assert.equal(sample(text, 'openstage_http_request_duration_seconds_count', { area: 'none', route: 'unmatched', method: 'GET', status: '404' }), 1);
    assert.equal(sample(text, 'openstage_registry_heartbeats_total'), 3);
    // The service center registers itself: one service and instance besides ours.
    assert.equal(sample(text, 'openstage_registry_services'), 2);
    assert.equal(sample(text, 'openstage_registry_instances'), 2);
    assert.equal(sample(text, 'openstage_registry_lease_expiries_total'), 0);
    assert.equal(sample(text, 'openstage_registry_watch_sockets'), 0);
    assert.equal(sample(text, 'openstage_kie_kvs', { domain: 'default' }), 2);
    assert.equal(sample(text, 'openstage_kie_revision', { domain: 'default' }), 2);
    assert.equal(sample(text, 'openstage_kie_kv_changes_total'), 2);
    assert.equal(sample(text, 'openstage_kie_held_polls'), 1);
    assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0, 'process metrics');

    // A write wakes the poll; a lease ends when the clock passes its TTL (5 s × (3 + 1)).
    assert.equal((await call(srv.url, 'POST', '/v1/default/kie/kv', { body: { key: 'c', value: '1', labels: { app: 'm' } } })).status, 200);
    assert.equal((await held).status, 200);
    srv.clock.advance(21_000);
    text = await metrics(srv.url);
    assert.equal(sample(text, 'openstage_kie_held_polls'), 0);
    assert.equal(sample(text, 'openstage_kie_revision', { domain: 'default' }), 3);
    assert.equal(sample(text, 'openstage_registry_lease_expiries_total'), 1);
    assert.equal(sample(text, 'openstage_registry_instances'), 1);
  });

  it('counts finished jobs by type and state with their duration', async (t) => {
    // An add-on install without an agent jar configured: a job that fails at once.
    const s = await startCas(t);
    const env = await s.cas.post('/environments', { name: 'metrics-env' });
    const r = await s.cas.post(`/environments/${env.body.id}/addons`, { name: 'sermantInjector', cce_id: 'c', cse_id: 'c' });
    assert.equal(r.status, 200, r.text);
    await s.server.jobs.settled(r.body.job_id);
    let text = '';
    for (let i = 0; i < 50 && sample(text, 'openstage_jobs_finished_total', { type: 'addon-install', state: 'FAILED' }) === undefined; i++) text = await metrics(s.url);
    assert.equal(sample(text, 'openstage_jobs_finished_total', { type: 'addon-install', state: 'FAILED' }), 1);
    assert.equal(sample(text, 'openstage_job_duration_seconds_count', { type: 'addon-install', state: 'FAILED' }), 1);
    assert.equal(sample(text, 'openstage_replica_restarts'), 0);
  });
});

describe('GET /healthz, /readyz and /', () => {
  it('answers liveness, readiness with its checks, and 503 once the server stops', async (t) => {
    const srv = await startServer(t);
    assert.deepEqual(await (await fetch(`${srv.url}/healthz`)).json(), { status: 'ok' });
    const ready = await fetch(`${srv.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ok', checks: { server: 'ok', database: 'ok', migrations: 'ok' } });
    // While stopping: the database is closed and the server says so.
    await srv.server.db.close();
    const down = await fetch(`${srv.url}/readyz`);
    assert.equal(down.status, 503);
    const body = await down.json();
    assert.equal(body.status, 'unavailable');
    assert.equal(body.checks.database, 'unreachable');
  });

  it('shows a landing page: JSON for clients, HTML for browsers', async (t) => {
    const srv = await startServer(t);
    const json = await (await fetch(`${srv.url}/`)).json();
    assert.equal(json.name, 'OpenStage');
    assert.match(json.version, /^\d+\.\d+\.\d+/);
    assert.equal(json.links.console, '/console/');
    assert.equal(json.links.docs, '/docs');
    assert.ok(json.apis.some((a: any) => a.root === '/v3/{project}/cas'));
    const html = await fetch(`${srv.url}/`, { headers: { accept: 'text/html' } });
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await html.text(), /<a href="\/docs">docs<\/a>/);
  });
});

describe('GET /openapi.json and /docs', () => {
  it('documents the routes from their schemas, with unique operation ids', async (t) => {
    const srv = await startServer(t);
    const doc = await (await fetch(`${srv.url}/openapi.json`)).json();
    assert.equal(doc.openapi, '3.0.3');
    assert.ok(doc.paths['/v3/{project}/cas/applications'].post, 'ServiceStage');
    assert.ok(doc.paths['/v4/{project}/registry/microservices'].get, 'registry');
    assert.ok(doc.paths['/v1/{project}/kie/kv'].get, 'config center');
    assert.ok(doc.paths['/metrics'].get, 'operations');
    assert.equal(doc.paths['/v4/{project}/registry/microservices/{serviceId}/watcher'], undefined, 'WebSocket routes are left out');
    const ids = Object.values(doc.paths).flatMap((p: any) => Object.values(p).map((op: any) => op.operationId)).filter(Boolean);
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    const ui = await fetch(`${srv.url}/docs`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /Swagger UI/);
  });
});
