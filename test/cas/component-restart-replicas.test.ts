import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startCas } from '../helpers/cas-client.js';
import { envAndApp, FAST_DEPLOY, nodeBody, nodeHelloRepo, waitJob } from '../helpers/component.js';

// Review #6: restart (and start) ended by writing back the replica count of the release's
// sealed plan (the count at deploy time), so after a scale the status said fewer replicas
// than were running (and than the stored body).
describe('restart after a scale', () => {
  it('keeps the scaled replica count in the status', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const { envId, appId } = await envAndApp(s);
    const created = await s.cas.post(`/applications/${appId}/components`, nodeBody(envId, nodeHelloRepo(t)));
    assert.equal(created.status, 200, created.text);
    assert.equal((await waitJob(s, created.body.job_id)).job.execution_status, 'SUCCEEDED');
    const path = `/applications/${appId}/components/${created.body.component_id}`;
    for (const body of [{ action: 'scale', parameters: { replica: 2 } }, { action: 'restart' }, { action: 'stop' }, { action: 'start' }]) {
      const act = await s.cas.post(`${path}/action`, body);
      assert.equal(act.status, 200, act.text);
      assert.equal((await waitJob(s, act.body.job_id)).job.execution_status, 'SUCCEEDED', body.action);
      const got = (await s.cas.get(path)).body;
      assert.equal(got.replica, 2, body.action);
      assert.equal(got.status.replica, 2, `${body.action}: ${JSON.stringify(got.status)}`);
      if (body.action !== 'stop') assert.equal(got.status.instances.length, 2, body.action);
    }
  });

  it('reads the replica count and version when a queued action runs, not when it was asked for', async (t) => {
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const { envId, appId } = await envAndApp(s);
    const created = await s.cas.post(`/applications/${appId}/components`, nodeBody(envId, nodeHelloRepo(t)));
    assert.equal(created.status, 200, created.text);
    const path = `/applications/${appId}/components/${created.body.component_id}`;
    assert.equal((await waitJob(s, created.body.job_id)).job.execution_status, 'SUCCEEDED');
    // The restart is asked for while the scale still runs: it queues behind it.
    const scale = await s.cas.post(`${path}/action`, { action: 'scale', parameters: { replica: 2 } });
    const restart = await s.cas.post(`${path}/action`, { action: 'restart' });
    assert.equal(scale.status, 200, scale.text);
    assert.equal(restart.status, 200, restart.text);
    assert.equal((await waitJob(s, scale.body.job_id)).job.execution_status, 'SUCCEEDED');
    assert.equal((await waitJob(s, restart.body.job_id)).job.execution_status, 'SUCCEEDED');
    const got = (await s.cas.get(path)).body;
    assert.equal(got.status.replica, 2, JSON.stringify(got.status));
    assert.equal(got.status.instances.length, 2, JSON.stringify(got.status));
    assert.equal(got.status.component_status, 'RUNNING');
  });
});
