import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it, type TestContext } from 'node:test';
import { startCas, uniqName, type CasServer } from '../../helpers/cas-client.js';
import { waitJob } from '../../helpers/component.js';
import { busyboxContext, testPodman } from '../../helpers/container.js';
import { kubectl, testCluster, uniqNamespace } from '../../helpers/k8s-cluster.js';
import { registryGet, startRegistry, type TestRegistry } from '../../helpers/oci-registry.js';
import { fixtureDir, HOST_ENV } from '../../helpers/server.js';

/**
 * Code and package components of a cluster-bound environment (issue #17): built by the
 * container runtime into an image, pushed to the environment's `swr` registry (a real OCI
 * registry on loopback, TLS + htpasswd) and run by digest with an imagePullSecret. Pods are
 * simulated (KWOK): no image is pulled, so the tests check the Deployment's reference and
 * what the registry holds under it.
 */

/**
 * Pushes a busybox image made FROM scratch as `<registry>/base/<name>:1`: the stand-in of a
 * stack's base image (no public registry is reachable here; nothing runs on the simulated nodes).
 */
async function pushBase(t: TestContext, registry: TestRegistry, name: string): Promise<string> {
  const { podman } = testPodman(t, { insecureRegistries: [registry.host] });
  const dir = mkdtempSync(join(tmpdir(), 'openstage-base-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  busyboxContext(dir, { extra: ['ENV CATALINA_HOME=/opt/tomcat'] });
  const signal = new AbortController().signal;
  await podman.build({ contextDir: dir, tag: `localhost/base/${name}:1`, logFile: join(dir, 'build.log'), signal });
  const ref = `${registry.host}/base/${name}:1`;
  await podman.push({ image: `localhost/base/${name}:1`, destination: ref, credentials: { username: registry.username, password: registry.password }, signal, logFile: join(dir, 'push.log') });
  return ref;
}

/** An environment binding the test cluster (namespace `ns`) and, unless `swr` is false, the registry. */
async function clusterEnv(s: CasServer, ns: string, registry: TestRegistry, swr = true): Promise<string> {
  const cluster = testCluster();
  const resources: Record<string, unknown>[] = [{ id: 'k1', type: 'cce', parameters: { kubeconfig: cluster.kubeconfig, namespace: ns } }];
  if (swr) resources.push({ id: 'reg', type: 'swr', parameters: { server: registry.host, namespace: 'team', username: registry.username, password: registry.password } });
  const env = await s.cas.post('/environments', { name: uniqName('env'), resources });
  assert.equal(env.status, 200, env.text);
  return env.body.id;
}

/** The component's stable Deployment. */
function deploymentOf(ns: string, componentId: string): any {
  const items = JSON.parse(kubectl('-n', ns, 'get', 'deployment', '-l', `openstage.io/component-id=${componentId}`, '-o', 'json')).items;
  assert.equal(items.length, 1, JSON.stringify(items.map((d: any) => d.metadata.name)));
  return items[0];
}

/**
 * What the registry holds under `reference` (`<host>/<repository>@sha256:…`): the manifest
 * (its digest checked against the reference), the image config and the files of its last layer.
 */
async function pushedImage(registry: TestRegistry, reference: string): Promise<{ manifest: any; config: any; lastLayer: string[] }> {
  const match = new RegExp(`^${registry.host.replace(/\./g, '\\.')}/(.+)@(sha256:[a-f0-9]{64})$`).exec(reference);
  assert.ok(match, `${reference} is a reference by digest into ${registry.host}`);
  const [, repository, digest] = match;
  const m = await registryGet(registry, `${repository}/manifests/${digest}`);
  assert.equal(m.status, 200, m.body.toString());
  assert.equal(m.headers['docker-content-digest'], digest);
  const manifest = JSON.parse(m.body.toString('utf8'));
  const c = await registryGet(registry, `${repository}/blobs/${manifest.config.digest}`);
  assert.equal(c.status, 200);
  const layer = await registryGet(registry, `${repository}/blobs/${manifest.layers.at(-1).digest}`);
  assert.equal(layer.status, 200);
  const lastLayer = execFileSync('tar', ['-tz'], { input: layer.body, encoding: 'utf8' }).split('\n').filter(Boolean);
  return { manifest, config: JSON.parse(c.body.toString('utf8')), lastLayer };
}

/** A file:// URL of a jar (any bytes: nothing runs it) under the test servers' source roots. */
function jarPackage(t: TestContext, content: string): string {
  const dir = fixtureDir(t, 'jar-');
  writeFileSync(join(dir, 'orders.jar'), content, { mode: 0o644 });
  return pathToFileURL(join(dir, 'orders.jar')).toString();
}

describe('code and package components on a cce-bound environment: images pushed to the bound swr registry', () => {
  it('a Java package becomes an image FROM the stack base, pushed and run by digest with a pull secret; upgrade pushes a new digest, rollback runs the first again', async (t) => {
    const registry = await startRegistry(t);
    const base = await pushBase(t, registry, 'java');
    const s = await startCas(t, { 'deploy.containerInsecureRegistries': [registry.host], 'deploy.kubernetesBaseImageJava': base }, { realClock: true });
    const ns = uniqNamespace('img');
    t.after(() => kubectl('delete', 'namespace', ns, '--wait=false'));
    const envId = await clusterEnv(s, ns, registry);
    const app = await s.cas.post('/applications', { name: uniqName('Shop') });
    const body = {
      name: uniqName('Orders'),
      runtime_stack: { name: 'OpenJDK17', type: 'Java', version: '1.0.0', deploy_mode: 'container' },
      source: { kind: 'package', storage: 'obs', url: jarPackage(t, 'version one') },
      replica: 2,
      version: '1.0.0',
      environment_id: envId,
      refer_resources: [],
      jvm_opts: '-Xmx128m',
    };
    const created = await s.cas.post(`/applications/${app.body.id}/components`, body);
    assert.equal(created.status, 200, created.text);
    const id = created.body.component_id as string;
    const job = await waitJob(s, created.body.job_id, 300_000);
    assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));

    const d1 = deploymentOf(ns, id);
    const container = d1.spec.template.spec.containers[0];
    const repository = `${registry.host}/team/${app.body.name.toLowerCase()}-${body.name.toLowerCase()}`;
    assert.match(container.image, new RegExp(`^${repository.replace(/\./g, '\\.')}@sha256:[a-f0-9]{64}$`));
    assert.ok(JSON.stringify(job.tasks).includes(`pushed ${container.image}`), JSON.stringify(job.tasks));
    // jvm_opts reach the JVM through the environment, not the image's command.
    assert.deepEqual(container.env.find((e: any) => e.name === 'JAVA_TOOL_OPTIONS'), { name: 'JAVA_TOOL_OPTIONS', value: '-Xmx128m' });
    const image = await pushedImage(registry, container.image);
    assert.deepEqual(image.config.config.Cmd, ['java', '-jar', 'orders.jar']);
    assert.equal(image.config.config.WorkingDir, '/app');
    assert.ok(image.lastLayer.includes('app/orders.jar'), image.lastLayer.join(', '));
    assert.equal(image.manifest.layers.length, 2, 'the base layer and the application');
    // The tag names the version too.
    assert.equal((await registryGet(registry, `${repository.slice(registry.host.length + 1)}/manifests/1.0.0`)).headers['docker-content-digest'], container.image.split('@')[1]);

    // The pods pull with the binding's credentials.
    const [pullSecret] = d1.spec.template.spec.imagePullSecrets;
    const secret = JSON.parse(kubectl('-n', ns, 'get', 'secret', pullSecret.name, '-o', 'json'));
    assert.equal(secret.type, 'kubernetes.io/dockerconfigjson');
    const auths = JSON.parse(Buffer.from(secret.data['.dockerconfigjson'], 'base64').toString('utf8')).auths;
    assert.deepEqual(Object.keys(auths), [registry.host]);
    assert.equal(auths[registry.host].username, registry.username);
    const shown = await s.cas.get(`/applications/${app.body.id}/components/${id}`);
    assert.equal(shown.body.status.component_status, 'RUNNING', shown.text);
    assert.equal(shown.body.status.available_replica, 2);

    // Upgrade: a new package, a new image, a new digest.
    const up = await s.cas.put(`/applications/${app.body.id}/components/${id}`, { ...body, version: '1.0.1', source: { ...body.source, url: jarPackage(t, 'version two') } });
    assert.equal(up.status, 200, up.text);
    assert.equal((await waitJob(s, up.body.job_id, 300_000)).job.execution_status, 'SUCCEEDED');
    const image2 = deploymentOf(ns, id).spec.template.spec.containers[0].image;
    assert.notEqual(image2, container.image);
    assert.ok((await pushedImage(registry, image2)).lastLayer.includes('app/orders.jar'));

    // Rollback: the stored 1.0.0 digest, nothing built again.
    const back = await s.cas.post(`/applications/${app.body.id}/components/${id}/action`, { action: 'rollback', parameters: { version: '1.0.0' } });
    assert.equal(back.status, 200, back.text);
    const rolled = await waitJob(s, back.body.job_id);
    assert.equal(rolled.job.execution_status, 'SUCCEEDED', JSON.stringify(rolled.tasks));
    assert.ok(!rolled.tasks.some((task: any) => task.task_name === 'build'), JSON.stringify(rolled.tasks));
    assert.equal(deploymentOf(ns, id).spec.template.spec.containers[0].image, container.image);
  });

  it('a Docker-stack repository is built from its Dockerfile and pushed; without an swr binding a package component fails at build saying what to bind', async (t) => {
    const registry = await startRegistry(t);
    const s = await startCas(t, { 'deploy.containerInsecureRegistries': [registry.host] }, { realClock: true });
    const ns = uniqNamespace('img');
    t.after(() => kubectl('delete', 'namespace', ns, '--wait=false'));
    const repo = fixtureDir(t, 'repo-');
    busyboxContext(repo, { index: 'built for a cluster', dockerfileName: 'deploy/app.Dockerfile' });
    const git = { ...HOST_ENV, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
    for (const args of [['init', '-q', '-b', 'main'], ['add', '.'], ['commit', '-q', '-m', 'app']]) execFileSync('git', args, { cwd: repo, env: git });
    const app = await s.cas.post('/applications', { name: uniqName('app') });
    const body = {
      name: uniqName('web'),
      runtime_stack: { name: 'Docker', type: 'Docker', version: '1.0.0', deploy_mode: 'container' },
      source: { kind: 'code', repo_url: pathToFileURL(repo).toString(), repo_ref: 'main' },
      build: { parameters: { dockerfile_path: 'deploy/app.Dockerfile' } },
      replica: 1,
      version: '2.0.0',
      environment_id: await clusterEnv(s, ns, registry),
      refer_resources: [],
    };
    const created = await s.cas.post(`/applications/${app.body.id}/components`, body);
    assert.equal(created.status, 200, created.text);
    const job = await waitJob(s, created.body.job_id, 300_000);
    assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
    const image = deploymentOf(ns, created.body.component_id).spec.template.spec.containers[0].image;
    const pushed = await pushedImage(registry, image);
    assert.deepEqual(pushed.config.config.Cmd, ['/bin/sh', '-c', "trap 'exit 0' TERM; httpd -f -p 127.0.0.1:$PORT -h /www & wait"]);
    assert.ok(pushed.lastLayer.includes('www/index.html'), pushed.lastLayer.join(', '));

    // No registry bound: nowhere to push, and the job says so.
    const bare = await s.cas.post(`/applications/${app.body.id}/components`, {
      ...body,
      name: uniqName('jar'),
      runtime_stack: { name: 'OpenJDK17', type: 'Java', version: '1.0.0', deploy_mode: 'container' },
      source: { kind: 'package', storage: 'obs', url: jarPackage(t, 'x') },
      build: undefined,
      environment_id: await clusterEnv(s, ns, registry, false),
    });
    assert.equal(bare.status, 200, bare.text);
    const failed = await waitJob(s, bare.body.job_id);
    assert.equal(failed.job.execution_status, 'FAILED');
    const build = failed.tasks.find((task: any) => task.task_name === 'build');
    assert.equal(build.task_status, 'FAILED');
    assert.match(build.messages, /bind an swr resource/);
  });

  it('Tomcat and Python components: the war as ROOT.war under the base image\'s CATALINA_HOME, the Python source started by python3 with its venv on PYTHONPATH', async (t) => {
    const registry = await startRegistry(t);
    const [tomcatBase, pythonBase] = await Promise.all([pushBase(t, registry, 'tomcat'), pushBase(t, registry, 'python')]);
    const s = await startCas(t, { 'deploy.containerInsecureRegistries': [registry.host], 'deploy.kubernetesBaseImageTomcat': tomcatBase, 'deploy.kubernetesBaseImagePython': pythonBase }, { realClock: true });
    const ns = uniqNamespace('img');
    t.after(() => kubectl('delete', 'namespace', ns, '--wait=false'));
    const envId = await clusterEnv(s, ns, registry);
    const app = await s.cas.post('/applications', { name: uniqName('app') });
    const warDir = fixtureDir(t, 'war-');
    writeFileSync(join(warDir, 'shop.war'), 'not really a war', { mode: 0o644 });
    const pyDir = fixtureDir(t, 'py-');
    writeFileSync(join(pyDir, 'main.py'), 'print("hello")\n', { mode: 0o644 });
    execFileSync('tar', ['-czf', join(pyDir, 'app.tar.gz'), '-C', pyDir, 'main.py']);
    const component = (type: string, url: string) => ({
      name: uniqName(type.toLowerCase()),
      runtime_stack: { name: type === 'Tomcat' ? 'Tomcat10-OpenJDK17' : 'Python3', type, version: '1.0.0', deploy_mode: 'container' },
      source: { kind: 'package', storage: 'obs', url },
      replica: 1,
      version: '1.0.0',
      environment_id: envId,
      refer_resources: [],
    });
    const [tomcat, python] = await Promise.all(
      [component('Tomcat', pathToFileURL(join(warDir, 'shop.war')).toString()), component('Python', pathToFileURL(join(pyDir, 'app.tar.gz')).toString())].map(async (body) => {
        const created = await s.cas.post(`/applications/${app.body.id}/components`, body);
        assert.equal(created.status, 200, created.text);
        const job = await waitJob(s, created.body.job_id, 300_000);
        assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
        return pushedImage(registry, deploymentOf(ns, created.body.component_id).spec.template.spec.containers[0].image);
      }),
    );
    // Tomcat: only the war, where the base image's Tomcat deploys it; the base's command stays.
    assert.deepEqual(tomcat!.lastLayer.filter((f) => !f.endsWith('/')), ['opt/tomcat/webapps/ROOT.war']);
    assert.deepEqual(tomcat!.config.config.Cmd, ['/bin/sh', '-c', "trap 'exit 0' TERM; httpd -f -p 127.0.0.1:$PORT -h /www & wait"]);
    // Python: the source and the build's venv; the base image's python3 runs it.
    assert.deepEqual(python!.config.config.Cmd, ['python3', '-u', 'main.py']);
    assert.ok(python!.lastLayer.includes('app/main.py'), python!.lastLayer.slice(0, 20).join(', '));
    assert.ok(python!.config.config.Env.some((e: string) => /^PYTHONPATH=\/app\/\.venv\/lib\/python3\.\d+\/site-packages$/.test(e)), python!.config.config.Env.join(', '));
  });
});
