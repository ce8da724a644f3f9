import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { startCas, uniqName, type CasServer } from '../helpers/cas-client.js';
import { answer, envAndApp, eventually, EXAMPLES, FAST_DEPLOY, nodeBody, waitJob } from '../helpers/component.js';
import { fixtureDir } from '../helpers/server.js';
import { sharedTomcatHome, tomcatHelloWar } from '../helpers/tomcat.js';

// Issue #18 item 20: a custom runtime stack's spec takes effect on the process runtime where it
// can (parameters.jdk_url, parameters.tomcat_url), and the job says what it cannot honour (a
// custom OS). Real processes, the real clock.

const run = promisify(execFile);

/** A .tar.gz of `dir` (one top-level folder) with a checksum file beside it. @returns its file:// URL */
function archive(dir: string, file: string, algorithm: 'sha256' | 'sha512'): string {
  execFileSync('tar', ['-czf', file, '-C', dirname(dir), basename(dir)]);
  writeFileSync(`${file}.${algorithm}`, `${createHash(algorithm).update(readFileSync(file)).digest('hex')}  ${basename(file)}\n`);
  return pathToFileURL(file).toString();
}

/** A "JDK" whose bin/java says it ran and hands over to the host's java. @returns the archive's file:// URL */
function fakeJdk(root: string): string {
  const hostJava = execFileSync('readlink', ['-f', execFileSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' }).trim()], { encoding: 'utf8' }).trim();
  const jdk = join(root, 'jdk-17-custom');
  mkdirSync(join(jdk, 'bin'), { recursive: true });
  writeFileSync(join(jdk, 'bin', 'java'), `#!/bin/sh\necho "custom JDK: JAVA_HOME=$JAVA_HOME"\nexec ${hostJava} "$@"\n`);
  chmodSync(join(jdk, 'bin', 'java'), 0o755);
  return archive(jdk, join(root, 'jdk-17-custom.tar.gz'), 'sha256');
}

/** Creates a custom stack. @returns its name */
async function stack(s: CasServer, type: string, spec: Record<string, unknown>): Promise<string> {
  const r = await s.cas.post('/runtimestacks', { name: uniqName('stk'), deploy_mode: 'virtualmachine', type, version: '1.0.0', spec });
  assert.equal(r.status, 200, r.text);
  return r.body.name;
}

/** The messages of the build task of a job. */
const buildMessages = (job: any): string => job.tasks.find((x: any) => x.task_name === 'build').messages;

// One database: npm test runs this file on SQLite only (scripts/run-tests.mjs). It tests
// custom stacks' JDK and Tomcat in real builds and replicas; the component API's
// store runs on both databases in test/cas/component.test.ts.
describe('custom runtime stacks on the process runtime (issue #18 item 20)', () => {
  it("a Java stack's jdk_url is the JDK the replicas run (fetched confined, checked, cached per URL); a custom OS is said to be ignored", async (t) => {
    const dir = fixtureDir(t, 'stack-');
    mkdirSync(join(dir, 'classes'));
    await run('javac', ['-d', join(dir, 'classes'), join(EXAMPLES, 'java-hello/src/main/java/hello/Main.java')]);
    await run('jar', ['--create', '--file', join(dir, 'java-hello.jar'), '--main-class', 'hello.Main', '-C', join(dir, 'classes'), '.']);
    const jdkUrl = fakeJdk(dir);
    const s = await startCas(t, FAST_DEPLOY, { realClock: true });
    const { envId, appId } = await envAndApp(s);
    const name = await stack(s, 'Java', { os: 'EulerOS 2.9', parameters: { jdk_url: jdkUrl, os_url: 'obs://images/euler.qcow2', os_type: 'custom' } });
    const componentName = uniqName('web');
    const component = (version: string, stackName = name) =>
      nodeBody(envId, '', { name: componentName, runtime_stack: { name: stackName, type: 'Java', version: '1.0.0', deploy_mode: 'virtualmachine' }, source: { kind: 'package', storage: 'obs', url: pathToFileURL(join(dir, 'java-hello.jar')).toString() }, version, readiness_probe: { type: 'tcp', timeout: 1 } });
    const created = await s.cas.post(`/applications/${appId}/components`, component('1.0.0'));
    assert.equal(created.status, 200, created.text);
    let job = await waitJob(s, created.body.job_id, 180_000);
    assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
    const messages = buildMessages(job);
    assert.match(messages, new RegExp(`runtime stack ${name}: a custom OS \\(spec\\.os EulerOS 2\\.9, parameters\\.os_url obs://images/euler\\.qcow2, os_type custom\\) cannot be honoured by the process runtime`));
    assert.match(messages, /sha256 checksum verified \(file:.*jdk-17-custom\.tar\.gz\.sha256\)/);
    assert.match(messages, /JDK from file:.*jdk-17-custom\.tar\.gz verified \(sha256:[0-9a-f]{64}\) and cached/);
    const javaHome = /start command: (\/\S+)\/bin\/java -jar java-hello\.jar/.exec(messages)?.[1];
    assert.ok(javaHome?.includes('/deploy/tools/jdk-'), messages);
    const path = `/applications/${appId}/components/${created.body.component_id}`;
    const got = (await s.cas.get(path)).body;
    assert.equal(got.status.component_status, 'RUNNING');
    assert.equal((await answer(got.status.instances[0].port)).version, '1.0.0');
    await eventually('the custom JDK in the replica log', async () => {
      const logs = await s.cas.get(`${path}/logs?lines=20`);
      return logs.body.logs[0].lines.includes(`custom JDK: JAVA_HOME=${javaHome}`) ? true : undefined;
    });

    // The next build takes it from the cache.
    const upgraded = await s.cas.put(path, component('1.1.0'));
    assert.equal(upgraded.status, 200, upgraded.text);
    job = await waitJob(s, upgraded.body.job_id, 180_000);
    assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
    assert.match(buildMessages(job), /JDK from file:.*jdk-17-custom\.tar\.gz \(cached\)/);

    // A checksum that does not match, and an obs:// URL, fail the build saying why.
    const wrong = await stack(s, 'Java', { parameters: { jdk_url: jdkUrl, jdk_sha256: 'ab'.repeat(32) } });
    const obs = await stack(s, 'Java', { parameters: { jdk_url: 'obs://bucket/jdk.tar.gz' } });
    for (const [stackName, reason] of [
      [wrong, /jdk-17-custom\.tar\.gz does not match its sha256 checksum from the stack's parameters/],
      [obs, /parameters\.jdk_url obs:\/\/bucket\/jdk\.tar\.gz cannot be fetched by OpenStage: .*obs:\/\/ names Huawei Cloud object storage/],
    ] as const) {
      const r = await s.cas.post(`/applications/${appId}/components`, { ...component('1.0.0', stackName), name: uniqName('web') });
      assert.equal(r.status, 200, r.text);
      const failed = await waitJob(s, r.body.job_id, 120_000);
      assert.equal(failed.job.execution_status, 'FAILED');
      const build = failed.tasks.find((x: any) => x.task_name === 'build');
      assert.equal(build.task_status, 'FAILED');
      assert.match(build.messages, reason);
    }
  });

  it("a Tomcat stack's tomcat_url is the Tomcat its war runs in", async (t) => {
    const dir = fixtureDir(t, 'stack-');
    const tomcatUrl = archive(await sharedTomcatHome(), join(dir, 'tomcat-custom.tar.gz'), 'sha512');
    // deploy.tomcatUrl leads nowhere: only the stack's Tomcat can make the build succeed.
    const s = await startCas(t, { ...FAST_DEPLOY, 'deploy.readyTimeoutSeconds': 60, 'deploy.tomcatUrl': 'file:///nonexistent/openstage-tomcat' }, { realClock: true });
    const { envId, appId } = await envAndApp(s);
    const name = await stack(s, 'Tomcat', { parameters: { tomcat_url: tomcatUrl } });
    const created = await s.cas.post(`/applications/${appId}/components`, nodeBody(envId, '', { runtime_stack: { name, type: 'Tomcat', version: '1.0.0' }, source: { kind: 'package', storage: 'obs', url: pathToFileURL(await tomcatHelloWar()).toString() }, version: '1.0.0', readiness_probe: undefined, jvm_opts: '-Xmx128m' }));
    assert.equal(created.status, 200, created.text);
    const job = await waitJob(s, created.body.job_id, 240_000);
    assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
    assert.match(buildMessages(job), /Tomcat from file:.*tomcat-custom\.tar\.gz verified \(sha512:[0-9a-f]{128}\) and cached/);
    assert.match(buildMessages(job), /Tomcat from \/\S+\/deploy\/tools\/tomcat-[0-9a-f]+/);
    const got = (await s.cas.get(`/applications/${appId}/components/${created.body.component_id}`)).body;
    assert.equal(got.status.component_status, 'RUNNING');
    const hello = await answer(got.status.instances[0].port);
    assert.equal(hello.version, '1.0.0');
    assert.match(hello.server, /^Apache Tomcat\/10\./);
  });
});
