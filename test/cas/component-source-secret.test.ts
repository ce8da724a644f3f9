import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { restartCas, startCas } from '../helpers/cas-client.js';
import { envAndApp, nodeBody, waitJob } from '../helpers/component.js';

const PASSWORD = 's3cret-Pa55';

/** A package host that records the Authorization header of every download. */
async function packageHost(t: { after: (fn: () => unknown) => void }): Promise<{ base: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(String(req.headers.authorization ?? ''));
    res.writeHead(200, { 'content-type': 'application/gzip' }).end(Buffer.from('not really a tarball'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('a package URL with user info (issue #15 M5)', () => {
  it('is sealed at rest and answered redacted by GET, lists, records and status, while the engine downloads with the real credentials', async (t) => {
    const host = await packageHost(t);
    let s = await startCas(t, {}, { realClock: true });
    const { envId, appId } = await envAndApp(s);
    const url = `http://deployer:${PASSWORD}@${new URL(host.base).host}/app.tar.gz`;
    const redacted = `http://deployer:******@${new URL(host.base).host}/app.tar.gz`;
    const body = nodeBody(envId, '', { source: { kind: 'package', storage: 'obs', url } });
    const created = await s.cas.post(`/applications/${appId}/components`, body);
    assert.equal(created.status, 200, created.text);
    const componentId = created.body.component_id as string;
    await waitJob(s, created.body.job_id);
    const basic = `Basic ${Buffer.from(`deployer:${PASSWORD}`).toString('base64')}`;
    assert.deepEqual(host.seen, [basic], 'the engine got the real URL');

    const path = `/applications/${appId}/components/${componentId}`;
    const answers = [await s.cas.get(path), await s.cas.get(`/applications/${appId}/components`), await s.cas.get('/components'), await s.cas.get(`${path}/records`)];
    for (const a of answers) {
      assert.equal(a.status, 200, a.text);
      assert.ok(!a.text.includes(PASSWORD), `the password is not answered: ${a.text.slice(0, 300)}`);
    }
    const [got, inApp, all, records] = answers.map((a) => a.body);
    assert.equal(got.source.url, redacted);
    assert.equal(got.status.artifact.url, redacted);
    assert.equal(inApp.components[0].source.url, redacted);
    assert.equal(all.components.find((c: any) => c.id === componentId).source.url, redacted);
    assert.equal(records.records[0].jobs[0].job_info.source_url, redacted);

    const db = s.server.db.kysely;
    const rows = [
      ...(await db.selectFrom('cas_components').select(['body']).where('id', '=', componentId).execute()).map((r) => r.body),
      ...(await db.selectFrom('cas_component_records').select(['body', 'job_info']).where('component_id', '=', componentId).execute()).flatMap((r) => [r.body, r.job_info]),
    ];
    assert.equal(rows.length, 3);
    for (const row of rows) assert.ok(!row.includes(PASSWORD), `sealed at rest: ${row.slice(0, 200)}`);

    // A client that sends back what GET answered keeps the real credentials, across a restart.
    s = await restartCas(s);
    const { name, runtime_stack, source, replica, refer_resources } = got;
    const upgraded = await s.cas.put(path, { name, runtime_stack, source, replica, version: '1.0.1', refer_resources, environment_id: envId });
    assert.equal(upgraded.status, 200, upgraded.text);
    await waitJob(s, upgraded.body.job_id);
    assert.deepEqual(host.seen, [basic, basic], 'the upgrade downloaded with the stored password, not "******"');
    assert.equal((await s.cas.get(path)).body.source.url, redacted);
  });

  it('seals at the next start what an earlier version stored in plain text', async (t) => {
    let s = await startCas(t);
    const url = `http://deployer:${PASSWORD}@10.0.0.1/app.tar.gz`;
    const body = { ...nodeBody('env-1', '', { source: { kind: 'package', url } }), name: 'legacy' };
    const db = s.server.db.kysely;
    await db.insertInto('cas_components').values({ id: 'legacy-1', project_id: 'p', application_id: 'a', environment_id: 'env-1', name: 'legacy', body: JSON.stringify(body), stack_name: 'Nodejs20', stack_type: 'Nodejs', stack_version: '1.0.0', creator: 'x', delete_job_id: '', created_at_ms: 1, updated_at_ms: 1 }).execute();
    await db.insertInto('cas_component_records').values({ job_id: 'JOB-legacy', project_id: 'p', component_id: 'legacy-1', deploy_type: 'deploy', version: '1.0.0', description: '{}', job_info: JSON.stringify({ sourceUrl: url, firstBatchWeight: 0, firstBatchReplica: 0, replica: 1, remainingBatch: 0 }), status: 'SUCCEEDED', begin_ms: 1, end_ms: 2, body: JSON.stringify(body) }).execute();
    s = await restartCas(s);
    const component = await s.server.db.kysely.selectFrom('cas_components').select(['body']).where('id', '=', 'legacy-1').executeTakeFirstOrThrow();
    const record = await s.server.db.kysely.selectFrom('cas_component_records').select(['body', 'job_info']).where('job_id', '=', 'JOB-legacy').executeTakeFirstOrThrow();
    for (const text of [component.body, record.body, record.job_info]) assert.ok(!text.includes(PASSWORD), text.slice(0, 200));
    assert.match(record.job_info, /deployer:\*{6}@10\.0\.0\.1/);
  });
});
