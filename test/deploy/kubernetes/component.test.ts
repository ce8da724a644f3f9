import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { restartCas, startCas, uniqName, type CasServer } from '../../helpers/cas-client.js';
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

  it('fails a job with the cluster\'s reason and shows it as the component\'s fail_detail; a pod failing later shows there too', async (t) => {
    const cluster = testCluster();
    const s = await startCas(t, { 'deploy.readyTimeoutSeconds': 120 }, { realClock: true });
    const ns = uniqNamespace('why');
    t.after(() => kubectl('delete', 'namespace', ns, '--wait=false'));
    const env = await s.cas.post('/environments', { name: uniqName('env'), resources: [{ id: 'k1', type: 'cce', parameters: { kubeconfig: cluster.kubeconfig, namespace: ns } }] });
    assert.equal(env.status, 200, env.text);
    const app = await s.cas.post('/applications', { name: uniqName('app') });
    const body = (over: Record<string, unknown>) => ({
      name: uniqName('web'),
      runtime_stack: { name: 'Docker', type: 'Docker', version: '1.0.0', deploy_mode: 'container' },
      source: { kind: 'image', url: 'registry.local/shop/web:1.0.0' },
      replica: 1,
      version: '1.0.0',
      environment_id: env.body.id,
      refer_resources: [],
      ...over,
    });
    // KWOK's stages (scripts/k8s-test-cluster.sh) fail a pod labelled openstage.test/fail and
    // make one labelled openstage.test/ready-after late; the scheduler refuses 1024 cores.
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['ImagePullBackOff', { labels: [{ key: 'openstage.test/fail', value: 'ImagePullBackOff' }] }, /pod \S+: ImagePullBackOff: Back-off pulling image "registry\.local\/shop\/web:1\.0\.0" \(simulated\)/],
      ['CrashLoopBackOff', { labels: [{ key: 'openstage.test/fail', value: 'CrashLoopBackOff' }] }, /pod \S+: CrashLoopBackOff: back-off restarting failed container/],
      ['FailedScheduling', { request_cpu: 1024 }, /pod \S+: FailedScheduling: 0\/2 nodes are available: 2 Insufficient cpu/],
      ['ProgressDeadlineExceeded', { labels: [{ key: 'openstage.test/ready-after', value: '300s' }], update_strategy: { progress_deadline_seconds: 3 } }, /ProgressDeadlineExceeded: ReplicaSet "\S+" has timed out progressing/],
    ];
    await Promise.all(
      cases.map(async ([reason, over, message]) => {
        const created = await s.cas.post(`/applications/${app.body.id}/components`, body(over));
        assert.equal(created.status, 200, created.text);
        const job = await waitJob(s, created.body.job_id, 180_000);
        assert.equal(job.job.execution_status, 'FAILED', reason);
        const rollout = job.tasks.find((task: any) => task.task_type === 'rollout');
        assert.equal(rollout.task_status, 'FAILED', reason);
        assert.match(rollout.messages, message);
        const shown = await s.cas.get(`/applications/${app.body.id}/components/${created.body.component_id}`);
        assert.equal(shown.body.status.component_status, 'FAILED', shown.text);
        assert.match(shown.body.status.fail_detail, message);
      }),
    );

    // A running component whose new pods fail (its Deployment changed from outside the API):
    // the old pod keeps serving and fail_detail says why the new one does not run.
    const ok = await s.cas.post(`/applications/${app.body.id}/components`, body({}));
    assert.equal((await waitJob(s, ok.body.job_id)).job.execution_status, 'SUCCEEDED');
    const path = `/applications/${app.body.id}/components/${ok.body.component_id}`;
    assert.equal((await s.cas.get(path)).body.status.fail_detail, '');
    const [deployment] = JSON.parse(kubectl('-n', ns, 'get', 'deployment', '-l', `openstage.io/component-id=${ok.body.component_id}`, '-o', 'json')).items;
    kubectl('-n', ns, 'patch', 'deployment', deployment.metadata.name, '--type', 'merge', '-p', JSON.stringify({ spec: { template: { metadata: { labels: { 'openstage.test/fail': 'CrashLoopBackOff' } } } } }));
    const status = await eventually('the failing pod in fail_detail', async () => {
      const st = (await s.cas.get(path)).body.status;
      return /CrashLoopBackOff/.test(st.fail_detail) ? st : undefined;
    });
    assert.match(status.fail_detail, /^pod \S+: CrashLoopBackOff: back-off restarting failed container \(simulated\)$/);
    assert.equal(status.available_replica, 1);
  });

  it('gray upgrade with continue_deploy, restart and rollback through the engine; after an OpenStage restart it watches again untouched, and a roll-out cut short ends on the recorded version', async (t) => {
    const cluster = testCluster();
    let s: CasServer = await startCas(t, { 'deploy.stopOnShutdown': false }, { realClock: true });
    const ns = uniqNamespace('gray');
    t.after(() => kubectl('delete', 'namespace', ns, '--wait=false'));
    const env = await s.cas.post('/environments', { name: uniqName('env'), resources: [{ id: 'k1', type: 'cce', parameters: { kubeconfig: cluster.kubeconfig, namespace: ns } }] });
    assert.equal(env.status, 200, env.text);
    const app = await s.cas.post('/applications', { name: uniqName('app') });
    const image = (v: string) => ({ kind: 'image', url: `registry.local/shop/web:${v}` });
    const body = { name: uniqName('web'), runtime_stack: { name: 'Docker', type: 'Docker', version: '1.0.0', deploy_mode: 'container' }, source: image('1.0.0'), replica: 3, version: '1.0.0', environment_id: env.body.id, refer_resources: [] };
    const created = await s.cas.post(`/applications/${app.body.id}/components`, body);
    assert.equal(created.status, 200, created.text);
    assert.equal((await waitJob(s, created.body.job_id)).job.execution_status, 'SUCCEEDED');
    const id = created.body.component_id as string;
    const path = `/applications/${app.body.id}/components/${id}`;
    const selector = `openstage.io/component-id=${id}`;
    const livePods = (): any[] => JSON.parse(kubectl('-n', ns, 'get', 'pods', '-l', selector, '-o', 'json')).items.filter((p: any) => !p.metadata.deletionTimestamp);
    const versions = () => livePods().map((p) => p.metadata.labels['app.kubernetes.io/version']).sort().join(',');
    const deployments = () => JSON.parse(kubectl('-n', ns, 'get', 'deployment', '-l', selector, '-o', 'json')).items;
    const act = async (action: Record<string, unknown>) => {
      const r = await s.cas.post(`${path}/action`, action);
      assert.equal(r.status, 200, r.text);
      const job = await waitJob(s, r.body.job_id);
      assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
    };

    // Gray: one pod of 2.0.0 beside the three of 1.0.0 until continue_deploy.
    const gray = await s.cas.put(path, { ...body, version: '2.0.0', source: image('2.0.0'), deploy_strategy: { type: 'GrayRelease', gray_release: { type: 'weight', first_batch_weight: 50, first_batch_replica: 1, remaining_batch: 1 } } });
    assert.equal(gray.status, 200, gray.text);
    await eventually('GRAYING', async () => ((await s.cas.get(path)).body.status.component_status === 'GRAYING' ? true : undefined), 60_000);
    assert.equal(versions(), '1.0.0,1.0.0,1.0.0,2.0.0');
    assert.equal(deployments().length, 2);
    assert.equal((await s.cas.get(path)).body.status.instances.length, 4);
    assert.equal((await s.cas.post(`${path}/action`, { action: 'continue_deploy' })).status, 200);
    assert.equal((await waitJob(s, gray.body.job_id)).job.execution_status, 'SUCCEEDED');
    assert.equal(versions(), '2.0.0,2.0.0,2.0.0');
    assert.equal(deployments().length, 1);

    // Restart: every pod replaced; rollback: the stored 1.0.0 again.
    const before = livePods().map((p) => p.metadata.name);
    await act({ action: 'restart' });
    const after = livePods().map((p) => p.metadata.name);
    assert.equal(after.length, 3);
    assert.deepEqual(after.filter((n) => before.includes(n)), []);
    await act({ action: 'rollback', parameters: { version: '1.0.0' } });
    assert.equal(versions(), '1.0.0,1.0.0,1.0.0');
    assert.equal((await s.cas.get(path)).body.version, '1.0.0');

    // OpenStage restarted with nothing going on: the same pods, nothing applied.
    const generation = deployments()[0].metadata.generation;
    const pods = livePods().map((p) => p.metadata.name).sort();
    s = await restartCas(s);
    const shown = await eventually('the component watched again', async () => {
      const st = (await s.cas.get(path)).body.status;
      return st.available_replica === 3 ? st : undefined;
    });
    assert.equal(shown.component_status, 'RUNNING');
    assert.equal(deployments()[0].metadata.generation, generation);
    assert.deepEqual(livePods().map((p) => p.metadata.name).sort(), pods);

    // OpenStage restarted in the middle of an upgrade whose pods are slow: the upgrade's job
    // fails (OpenStage stopping leaves the roll-out to the cluster), and the recover job leaves the cluster on 1.0.0, the version
    // OpenStage records, with no pod of 3.0.0 and none duplicated.
    const slow = await s.cas.put(path, { ...body, version: '3.0.0', source: image('3.0.0'), labels: [{ key: 'openstage.test/ready-after', value: '120s' }] });
    assert.equal(slow.status, 200, slow.text);
    await eventually('a pod of 3.0.0', async () => (versions().includes('3.0.0') ? true : undefined));
    s = await restartCas(s);
    const interrupted = await waitJob(s, slow.body.job_id);
    assert.equal(interrupted.job.execution_status, 'FAILED');
    assert.match(JSON.stringify(interrupted.tasks), /OpenStage is stopping/);
    await eventually('the cluster back on 1.0.0', async () => (versions() === '1.0.0,1.0.0,1.0.0' ? true : undefined), 120_000);
    const settled = await eventually('RUNNING on 1.0.0', async () => {
      const c = (await s.cas.get(path)).body;
      return c.status.component_status === 'RUNNING' && c.status.available_replica === 3 ? c : undefined;
    }, 60_000);
    assert.deepEqual(settled.status.instances.map((i: any) => i.version), ['1.0.0', '1.0.0', '1.0.0']);
    assert.equal(deployments().length, 1);
    assert.equal(deployments()[0].spec.template.metadata.labels['app.kubernetes.io/version'], '1.0.0');
  });
});
