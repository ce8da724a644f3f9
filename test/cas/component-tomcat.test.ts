import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { startCas } from '../helpers/cas-client.js';
import { answer, envAndApp, FAST_DEPLOY, nodeBody, waitJob } from '../helpers/component.js';
import { sharedTomcatHome, tomcatHelloWar } from '../helpers/tomcat.js';

// One database: npm test runs this file on SQLite only (scripts/run-tests.mjs). It tests
// Tomcat builds and replicas (real processes); the component API's store runs on
// both databases in test/cas/component.test.ts.
describe('POST /v3/{project_id}/cas/applications/{application_id}/components (Tomcat)', () => {
  it('creates a Tomcat component from a war package and runs it; the type is matched case-insensitively', async (t) => {
    const s = await startCas(t, { ...FAST_DEPLOY, 'deploy.readyTimeoutSeconds': 60, 'deploy.tomcatHome': await sharedTomcatHome() }, { realClock: true });
    const { envId, appId } = await envAndApp(s);
    const body = nodeBody(envId, '', {
      runtime_stack: { name: 'Tomcat10-OpenJDK17', type: 'tomcat', version: '1.0.0', deploy_mode: 'virtualmachine' },
      source: { kind: 'package', storage: 'obs', url: pathToFileURL(await tomcatHelloWar()).toString() },
      version: '2.3.4',
      jvm_opts: '-Xmx128m',
    });
    const created = await s.cas.post(`/applications/${appId}/components`, body);
    assert.equal(created.status, 200, created.text);
    const job = await waitJob(s, created.body.job_id);
    assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
    const got = await s.cas.get(`/applications/${appId}/components/${created.body.component_id}`);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.runtime_stack.type, 'Tomcat');
    assert.equal(got.body.status.component_status, 'RUNNING');
    const instance = got.body.status.instances[0];
    const hello = await answer(instance.port);
    assert.deepEqual([hello.service, hello.version, hello.instance, hello.port], [body.name, '2.3.4', instance.instance_id, String(instance.port)]);
    assert.match(hello.server, /^Apache Tomcat\/10\./);
  });
});
