import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ADMIN } from '../../helpers/iam-client.js';
import { assertCasError, startCas, uniqName } from '../../helpers/cas-client.js';
import { kubectl, testCluster, uniqNamespace } from '../../helpers/k8s-cluster.js';

/** The admin kubeconfig with its server replaced (same credentials). */
function withServer(kubeconfig: string, server: string): string {
  return kubeconfig.replace(/server: \S+/, `server: ${server}`);
}

describe('cce / custom_k8s bindings (POST and PUT /v3/{project}/cas/environments…)', () => {
  it('binds the cluster: the namespace is created, the kubeconfig is masked on the wire and sealed, a resent mask keeps it', async (t) => {
    const cluster = testCluster();
    const s = await startCas(t);
    const ns = uniqNamespace('bind');
    const created = await s.cas.post('/environments', { name: uniqName('env'), resources: [{ id: 'k1', type: 'cce', name: 'cluster', parameters: { kubeconfig: cluster.kubeconfig, namespace: ns } }] });
    assert.equal(created.status, 200, created.text);
    assert.deepEqual(created.body.resources, [{ id: 'k1', type: 'cce', name: 'cluster', alias: '', parameters: { kubeconfig: '******', namespace: ns } }]);
    assert.ok(!created.text.includes('client-key-data'));
    assert.equal(kubectl('get', 'namespace', ns, '-o', 'jsonpath={.metadata.name}'), ns);
    const bindings = await s.server.cas.environments.bindings(ADMIN.projectId, created.body.id);
    assert.deepEqual(bindings.map((b) => b.parameters), [{ kubeconfig: cluster.kubeconfig, namespace: ns }]);

    // The mask resent with another namespace: checked with the stored kubeconfig, created too.
    const ns2 = uniqNamespace('bind');
    const put = await s.cas.put(`/environments/${created.body.id}/resources`, { resources: [{ id: 'k1', type: 'cce', parameters: { kubeconfig: '******', namespace: ns2 } }] });
    assert.equal(put.status, 200, put.text);
    assert.equal(kubectl('get', 'namespace', ns2, '-o', 'jsonpath={.metadata.name}'), ns2);
    const got = await s.cas.get(`/environments/${created.body.id}`);
    assert.deepEqual(got.body.resources[0].parameters, { kubeconfig: '******', namespace: ns2 });
    kubectl('delete', 'namespace', ns, ns2, '--wait=false');
  });

  it('refuses with 400 naming what failed: bad kubeconfig, host references, unreachable cluster, no rights, bad namespace', async (t) => {
    const cluster = testCluster();
    const s = await startCas(t);
    const env = (await s.cas.post('/environments', { name: uniqName('env') })).body;
    const cases: [Record<string, string>, RegExp][] = [
      [{ kubeconfig: 'clusters: [' }, /resources\[0\]: parameters\.kubeconfig is not YAML/],
      [{ kubeconfig: 'apiVersion: v1\nkind: Config\n' }, /resources\[0\]: parameters\.kubeconfig has no current context/],
      [{ kubeconfig: cluster.kubeconfig.replace(/client-key-data: \S+/, 'client-key: /etc/shadow') }, /uses 'client-key', which reads a file on the OpenStage host/],
      [{ kubeconfig: cluster.kubeconfig.replace(/client-key-data: \S+/, 'exec: {command: /bin/sh, apiVersion: client.authentication.k8s.io/v1}') }, /uses 'exec', which runs a program on the OpenStage host/],
      [{ kubeconfig: withServer(cluster.kubeconfig, 'https://127.0.0.1:1') }, /resources\[0\]: the cluster at https:\/\/127\.0\.0\.1:1 does not answer/],
      [{ kubeconfig: cluster.kubeconfigNobody }, /resources\[0\]: the kubeconfig's credentials may not create deployments, watch deployments, create services, create configmaps, create secrets, watch pods in namespace default/],
      [{ kubeconfig: cluster.kubeconfig, namespace: 'Not_A_Namespace' }, /parameters\.namespace 'Not_A_Namespace' is not a Kubernetes namespace name/],
    ];
    for (const [parameters, message] of cases) {
      assertCasError(await s.cas.put(`/environments/${env.id}/resources`, { resources: [{ id: 'k', type: 'custom_k8s', parameters }] }), 400, 'SVCSTG.00100400', message);
      assertCasError(await s.cas.post('/environments', { name: uniqName('env'), resources: [{ id: 'k', type: 'cce', parameters }] }), 400, 'SVCSTG.00100400', message);
    }
    // Nothing was bound, and no secret reached a message.
    assert.deepEqual((await s.cas.get(`/environments/${env.id}/resources`)).body.resources, []);
    const nobody = await s.cas.put(`/environments/${env.id}/resources`, { resources: [{ id: 'k', type: 'cce', parameters: { kubeconfig: cluster.kubeconfigNobody } }] });
    assert.ok(!nobody.text.includes('client-key-data') && !nobody.text.includes('BEGIN'));
  });
});
