import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startCas, uniqName } from '../../helpers/cas-client.js';
import { eventually, waitJob } from '../../helpers/component.js';
import { kubectl, testCluster, uniqNamespace } from '../../helpers/k8s-cluster.js';

/**
 * Components of an environment bound to the test cluster, through the ServiceStage API (the
 * engine on the kubernetes runtime). Pods are simulated (KWOK): Ready, but nothing runs.
 */
describe('components on a cce-bound environment (POST/PUT/action/DELETE …/components)', () => {
  it('deploys an image component to the cluster, scales, stops, starts and deletes it leaving nothing', async (t) => {
    const cluster = testCluster();
    const s = await startCas(t, {}, { realClock: true });
    const ns = uniqNamespace('api');
    t.after(() => kubectl('delete', 'namespace', ns, '--wait=false'));
    const env = await s.cas.post('/environments', { name: uniqName('env'), resources: [{ id: 'k1', type: 'cce', parameters: { kubeconfig: cluster.kubeconfig, namespace: ns } }] });
    assert.equal(env.status, 200, env.text);
    const app = await s.cas.post('/applications', { name: uniqName('app') });
    assert.equal(app.status, 200, app.text);
    const body = {
      name: uniqName('web'),
      runtime_stack: { name: 'Docker', type: 'Docker', version: '1.0.0', deploy_mode: 'container' },
      source: { kind: 'image', url: 'registry.local/shop/web:1.0.0' },
      replica: 2,
      version: '1.0.0',
      environment_id: env.body.id,
      refer_resources: [],
      envs: [{ name: 'GREETING', value: 'hi' }],
    };
    const created = await s.cas.post(`/applications/${app.body.id}/components`, body);
    assert.equal(created.status, 200, created.text);
    const id = created.body.component_id as string;
    const job = await waitJob(s, created.body.job_id);
    assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job));
    const selector = `openstage.io/component-id=${id}`;
    const pods = () => JSON.parse(kubectl('-n', ns, 'get', 'pods', '-l', selector, '-o', 'json')).items.filter((p: any) => !p.metadata.deletionTimestamp);
    assert.equal(pods().length, 2);
    assert.deepEqual(pods()[0].spec.containers[0].env.find((e: any) => e.name === 'GREETING'), { name: 'GREETING', value: 'hi' });
    const shown = await s.cas.get(`/applications/${app.body.id}/components/${id}`);
    assert.equal(shown.body.status.component_status, 'RUNNING', shown.text);
    assert.equal(shown.body.status.available_replica, 2, shown.text);

    const scaled = await s.cas.post(`/applications/${app.body.id}/components/${id}/action`, { action: 'scale', parameters: { replica: 3 } });
    assert.equal(scaled.status, 200, scaled.text);
    assert.equal((await waitJob(s, scaled.body.job_id)).job.execution_status, 'SUCCEEDED');
    assert.equal(pods().length, 3);

    const stopped = await s.cas.post(`/applications/${app.body.id}/components/${id}/action`, { action: 'stop' });
    assert.equal((await waitJob(s, stopped.body.job_id)).job.execution_status, 'SUCCEEDED');
    assert.equal(pods().length, 0);
    const started = await s.cas.post(`/applications/${app.body.id}/components/${id}/action`, { action: 'start' });
    assert.equal((await waitJob(s, started.body.job_id)).job.execution_status, 'SUCCEEDED');
    assert.equal(pods().length, 3);

    const deleted = await s.cas.delete(`/applications/${app.body.id}/components/${id}`);
    assert.equal(deleted.status, 200, deleted.text);
    // The delete is asynchronous: GET answers until its job has removed everything.
    await eventually('the component is gone', async () => ((await s.cas.get(`/applications/${app.body.id}/components/${id}`)).status === 401 ? true : undefined), 120_000);
    for (const kind of ['deployment', 'service', 'configmap', 'secret']) {
      assert.deepEqual(JSON.parse(kubectl('-n', ns, 'get', kind, '-l', selector, '-o', 'json')).items, [], kind);
    }
  });
});
