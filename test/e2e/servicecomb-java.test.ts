import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { startCas, type CasServer } from '../helpers/cas-client.js';
import { EXAMPLES, FAST_DEPLOY, eventually, waitJob } from '../helpers/component.js';
import { call } from '../helpers/registry-client.js';
import { gitCli, GitClient } from '../git/client.js';

// Issue #9: a real ServiceComb application (examples/servicecomb-java, Apache ServiceComb Java
// Chassis from Maven Central: a provider and a consumer that calls it by microservice name) is
// built with Maven by the deployment engine from repositories hosted by OpenStage, deployed,
// configured and discovered through OpenStage's public APIs only — the flow of the README's
// walk-through, with every step asserted. The Maven repository is the build user's ~/.m2, so
// only the first build of a machine downloads the framework (~100 MB, ~2.5 min); the test
// then takes ~5 min on 2 cores, most of it JVM start-up.

const SAMPLE = join(EXAMPLES, 'servicecomb-java');
const GIT_USER = 'builder';
const GIT_PASSWORD = 'Builder-pass-1';
/** Heartbeat interval the provider is given (seconds): its lease is 5 × (3 + 1) = 20 s. */
const HEARTBEAT_SECONDS = 5;
const MINUTE = 60_000;

interface ProviderAnswer {
  greeting: string;
  message: string;
  service: string;
  version: string;
  instanceId: string;
  port: number;
  stage: string;
}

interface ConsumerAnswer {
  consumerVersion: string;
  consumerPort: number;
  provider: ProviderAnswer;
}

interface RegistryInstance {
  instanceId: string;
  version?: string;
  endpoints: string[];
}

/** Pushes the example folder `source` to a new OpenStage-hosted repository `folder`; @returns its clone URL. */
async function pushSample(git: GitClient, auth: string, work: string, folder: string, source = join(SAMPLE, folder)): Promise<string> {
  const project = await git.call('POST', '/repos/sc-demo/projects', { auth, body: { name: folder } });
  assert.equal(project.status, 200, project.text);
  const cloneUrl: string = project.body.clone_url;
  const withCreds = new URL(cloneUrl);
  withCreds.username = GIT_USER;
  withCreds.password = GIT_PASSWORD;
  const dir = join(work, folder);
  cpSync(source, dir, { recursive: true, filter: (src) => !src.includes('/target') && !src.includes('/node_modules') });
  await gitCli(['init', '--quiet', '-b', 'main'], dir);
  await gitCli(['add', '.'], dir);
  await gitCli(['commit', '--quiet', '-m', `${folder} 1.0.0`], dir);
  await gitCli(['push', '--quiet', withCreds.toString(), 'main'], dir);
  return cloneUrl;
}

/** The provider instances of application `app` in the registry (every version). */
async function registryProviders(s: CasServer, app: string): Promise<RegistryInstance[]> {
  const r = await call(s.url, 'GET', `/v4/default/registry/instances?appId=${encodeURIComponent(app)}&serviceName=provider&version=0.0.0%2B`);
  if (r.status === 400 && r.body?.errorCode === '400012') return []; // no provider microservice (yet)
  assert.equal(r.status, 200, r.text);
  return (r.body.instances ?? []) as RegistryInstance[];
}

/** Port of a registry instance's rest:// endpoint. */
function endpointPort(i: RegistryInstance): number {
  const rest = i.endpoints.find((e) => e.startsWith('rest://'));
  assert.ok(rest, JSON.stringify(i));
  return Number(new URL(rest.replace(/^rest:/, 'http:')).port);
}

/**
 * The pid of the process listening on 127.0.0.1:`port` (from /proc/net/tcp and the /proc/{pid}/fd
 * links — what `ss -ltnp` reads), or undefined.
 */
function pidListeningOn(port: number): number | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1]!.endsWith(`:${hexPort}`) && f[3] === '0A') inodes.add(f[9]!);
    }
  }
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return Number(pid);
      } catch {
        // fd closed meanwhile
      }
    }
  }
  return undefined;
}

describe('the ServiceComb Java Chassis application, through OpenStage only (issue #9)', () => {
  it('builds, deploys, configures, scales, upgrades, rolls back and stops it; discovery and config center work end to end', async (t: TestContext) => {
    const started = Date.now();
    let last = started;
    const step = (what: string): void => {
      const now = Date.now();
      t.diagnostic(`${what}: ${((now - last) / 1000).toFixed(1)} s (total ${((now - started) / 1000).toFixed(0)} s)`);
      last = now;
    };
    const s = await startCas(t, { ...FAST_DEPLOY, 'deploy.readyTimeoutSeconds': 300 }, { realClock: true });
    const git = new GitClient(s.url, s.cas.token);
    const work = mkdtempSync(join(tmpdir(), 'openstage-e2e-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));

    // Environment with this machine and the built-in engine, application (= the appId) with
    // its configuration, and a config file the provider mounts.
    const env = await s.cas.post('/environments', { name: 'sc-demo-env', deploy_mode: 'virtualmachine' });
    assert.equal(env.status, 200, env.text);
    const envId: string = env.body.id;
    const res = await s.cas.put(`/environments/${envId}/resources`, { resources: [{ id: 'local', type: 'ecs' }, { id: 'default', type: 'cse' }] });
    assert.equal(res.status, 200, res.text);
    const appName = 'sc-demo';
    const app = await s.cas.post('/applications', { name: appName });
    assert.equal(app.status, 200, app.text);
    const appId: string = app.body.id;
    const conf = await s.cas.put(`/applications/${appId}/configuration`, { environment_id: envId, configuration: { env: [{ name: 'APP_STAGE', value: 'e2e' }] } });
    assert.equal(conf.status, 200, conf.text);
    const group = await s.cas.post('/config-groups', { name: 'sc-demo-config' });
    assert.equal(group.status, 200, group.text);
    const file = await s.cas.post('/configs', { config_group_id: group.body.id, name: 'provider-yaml', type: 'yaml', content: 'greeting:\n  message: Hello from the config file of ${CAS_APPLICATION_NAME}\n' });
    assert.equal(file.status, 200, file.text);

    // Two repositories hosted by OpenStage, pushed with a `local` authorization.
    const auth = await git.call('POST', '/auths/local/password', { body: { name: GIT_USER, token: Buffer.from(`${GIT_USER}:${GIT_PASSWORD}`).toString('base64') } });
    assert.equal(auth.status, 200, auth.text);
    const providerRepo = await pushSample(git, GIT_USER, work, 'provider');
    const consumerRepo = await pushSample(git, GIT_USER, work, 'consumer');
    const nodeRepo = await pushSample(git, GIT_USER, work, 'node-caller', join(EXAMPLES, 'servicecomb-node'));
    step('environment, application, config file, two hosted repositories');

    const body = (name: string, repoUrl: string, version: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      name,
      version,
      replica: 1,
      environment_id: envId,
      refer_resources: [],
      runtime_stack: { name: 'OpenJDK17', type: 'Java', version: '1.0.0', deploy_mode: 'virtualmachine' },
      source: { kind: 'code', repo_url: repoUrl, repo_ref: 'main', repo_auth: GIT_USER },
      readiness_probe: { type: 'http', path: '/health', timeout: 2 },
      ...extra,
    });
    const providerExtra = {
      envs: [{ name: 'SC_HEARTBEAT_SECONDS', value: String(HEARTBEAT_SECONDS) }],
      storages: [{ type: 'ConfigMap', parameters: { config_id: file.body.id }, mounts: [{ path: '/config/provider.yaml' }] }],
    };
    const succeeded = async (jobId: string, timeoutMs: number): Promise<void> => {
      const job = await waitJob(s, jobId, timeoutMs);
      assert.equal(job.job.execution_status, 'SUCCEEDED', JSON.stringify(job.tasks));
    };

    // The provider first (its Maven build fills ~/.m2 on a fresh machine), then the consumer.
    const provider = await s.cas.post(`/applications/${appId}/components`, body('provider', providerRepo, '1.0.0', providerExtra));
    assert.equal(provider.status, 200, provider.text);
    const providerPath = `/applications/${appId}/components/${provider.body.component_id}`;
    await succeeded(provider.body.job_id, 15 * MINUTE);
    step('provider 1.0.0 built with Maven and running');
    const consumer = await s.cas.post(`/applications/${appId}/components`, body('consumer', consumerRepo, '1.0.0'));
    assert.equal(consumer.status, 200, consumer.text);
    await succeeded(consumer.body.job_id, 10 * MINUTE);
    const consumerStatus = (await s.cas.get(`/applications/${appId}/components/${consumer.body.component_id}`)).body.status;
    assert.equal(consumerStatus.instances.length, 1);
    const consumerPort: number = consumerStatus.instances[0].port;
    step('consumer 1.0.0 built and running');

    const callConsumer = async (): Promise<ConsumerAnswer | undefined> => {
      try {
        const r = await fetch(`http://127.0.0.1:${consumerPort}/call?name=OpenStage`);
        return r.status === 200 ? ((await r.json()) as ConsumerAnswer) : undefined;
      } catch {
        return undefined;
      }
    };
    const untilAnswer = (what: string, ok: (a: ConsumerAnswer) => boolean, timeoutMs = MINUTE): Promise<ConsumerAnswer> =>
      eventually(what, async () => {
        const a = await callConsumer();
        return a && ok(a) ? a : undefined;
      }, timeoutMs);
    /** Ports of the providers answering `calls` consecutive consumer calls (every answer must pass `ok`). */
    const spread = async (ok: (a: ConsumerAnswer) => boolean, calls = 12): Promise<Set<number>> => {
      const ports = new Set<number>();
      for (let i = 0; i < calls; i++) {
        const a = await callConsumer();
        assert.ok(a && ok(a), `call ${i}: ${JSON.stringify(a)}`);
        ports.add(a.provider.port);
      }
      return ports;
    };
    const componentPorts = async (): Promise<number[]> => ((await s.cas.get(providerPath)).body.status.instances as Array<{ port: number }>).map((i) => i.port).sort();

    // 1. The consumer calls the provider by name: discovery went through OpenStage's registry;
    // the provider's message is the mounted config file's (variables substituted) and its stage
    // the application configuration's.
    const first = await untilAnswer('the first call', (a) => a.provider.version === '1.0.0');
    assert.equal(first.consumerVersion, '1.0.0');
    assert.equal(first.consumerPort, consumerPort);
    assert.equal(first.provider.service, 'provider');
    assert.equal(first.provider.message, 'Hello from the config file of sc-demo');
    assert.equal(first.provider.greeting, 'Hello from the config file of sc-demo, OpenStage!');
    assert.equal(first.provider.stage, 'e2e');
    assert.deepEqual(await componentPorts(), [first.provider.port]);
    const registered = await registryProviders(s, appName);
    assert.deepEqual(registered.map((i) => i.instanceId), [first.provider.instanceId]);
    step('the consumer reaches the provider by name');

    // A second stack in the same application: a plain Node.js service speaking the registry's
    // REST API (examples/servicecomb-node) finds the Java provider by name too.
    const nodeCaller = await s.cas.post(`/applications/${appId}/components`, {
      ...body('node-caller', nodeRepo, '1.0.0'),
      runtime_stack: { name: 'Nodejs20', type: 'Nodejs', version: '1.0.0', deploy_mode: 'virtualmachine' },
    });
    assert.equal(nodeCaller.status, 200, nodeCaller.text);
    await succeeded(nodeCaller.body.job_id, 5 * MINUTE);
    const nodePort: number = (await s.cas.get(`/applications/${appId}/components/${nodeCaller.body.component_id}`)).body.status.instances[0].port;
    const nodeCall = async (): Promise<{ status: number; body: any }> => {
      const r = await fetch(`http://127.0.0.1:${nodePort}/call?name=OpenStage`);
      return { status: r.status, body: await r.json() };
    };
    const viaNode = await eventually('node-caller to reach the provider', async () => {
      const r = await nodeCall().catch(() => undefined);
      return r?.status === 200 ? r.body : undefined;
    });
    assert.equal(viaNode.caller, 'node-caller');
    assert.equal(viaNode.provider.instanceId, first.provider.instanceId);
    assert.equal(viaNode.provider.message, 'Hello from the config file of sc-demo');
    assert.equal(viaNode.provider.stage, 'e2e');
    const nodeProviders = async (): Promise<number[]> => {
      const r = await fetch(`http://127.0.0.1:${nodePort}/providers`);
      return ((await r.json()).instances as Array<{ url: string }>).map((i) => Number(new URL(i.url).port)).sort();
    };
    step('node-caller (Node.js) reaches the Java provider through the same registry');

    // 2. The config center: a kv for the provider (the labels Java Chassis' Kie client asks for)
    // changes its answer without a restart, and so does a change of the kv.
    const kv = await call(s.url, 'POST', '/v1/default/kie/kv', { body: { key: 'greeting.message', value: 'Hi from the config center', status: 'enabled', labels: { app: appName, service: 'provider', environment: '' } } });
    assert.equal(kv.status, 200, kv.text);
    const fromKie = await untilAnswer('the config center value', (a) => a.provider.message === 'Hi from the config center', 30_000);
    assert.equal(fromKie.provider.instanceId, first.provider.instanceId, 'the same provider process answers (no restart)');
    const put = await call(s.url, 'PUT', `/v1/default/kie/kv/${kv.body.id}`, { body: { value: 'Bonjour' } });
    assert.equal(put.status, 200, put.text);
    const changed = await untilAnswer('the changed value', (a) => a.provider.message === 'Bonjour', 30_000);
    assert.equal(changed.provider.greeting, 'Bonjour, OpenStage!');
    assert.equal(changed.provider.instanceId, first.provider.instanceId);
    step('config center value and its change reach the running provider');

    // 3. Scale to 3: three instances in the registry, and the consumer's calls spread over them.
    const scale = await s.cas.post(`${providerPath}/action`, { action: 'scale', parameters: { replica: 3 } });
    assert.equal(scale.status, 200, scale.text);
    await succeeded(scale.body.job_id, 10 * MINUTE);
    const scaledPorts = await componentPorts();
    assert.equal(scaledPorts.length, 3);
    await eventually('3 provider instances in the registry', async () => ((await registryProviders(s, appName)).length === 3 ? true : undefined));
    assert.deepEqual((await registryProviders(s, appName)).map(endpointPort).sort(), scaledPorts);
    const scaledSpread = await eventually('calls spread over 3 providers', async () => {
      const ports = await spread((a) => a.provider.message === 'Bonjour');
      return ports.size === 3 ? ports : undefined;
    });
    assert.deepEqual([...scaledSpread].sort(), scaledPorts);
    await eventually('node-caller to know the 3 providers', async () => (JSON.stringify(await nodeProviders()) === JSON.stringify(scaledPorts) ? true : undefined));
    step('scaled to 3, calls spread over 3 instances');

    // 4. Version 1.1.0 (a new build), then a rollback to 1.0.0.
    const upgrade = await s.cas.put(providerPath, body('provider', providerRepo, '1.1.0', { ...providerExtra, replica: 3 }));
    assert.equal(upgrade.status, 200, upgrade.text);
    await succeeded(upgrade.body.job_id, 15 * MINUTE);
    assert.equal((await s.cas.get(providerPath)).body.version, '1.1.0');
    await eventually('only 1.1.0 in the registry', async () => {
      const all = await registryProviders(s, appName);
      return all.length === 3 && all.every((i) => i.version === '1.1.0') ? true : undefined;
    });
    const upgradedSpread = await eventually('calls spread over 3 providers of 1.1.0', async () => {
      const ports = await spread((a) => a.provider.version === '1.1.0').catch(() => new Set<number>());
      return ports.size === 3 ? ports : undefined;
    });
    assert.deepEqual([...upgradedSpread].sort(), await componentPorts());
    step('upgraded to 1.1.0');
    const rollback = await s.cas.post(`${providerPath}/action`, { action: 'rollback', parameters: { version: '1.0.0' } });
    assert.equal(rollback.status, 200, rollback.text);
    await succeeded(rollback.body.job_id, 10 * MINUTE);
    const rolledBack = (await s.cas.get(providerPath)).body;
    assert.equal(rolledBack.version, '1.0.0');
    assert.equal(rolledBack.status.instances.length, 3);
    await eventually('only 1.0.0 in the registry', async () => {
      const all = await registryProviders(s, appName);
      return all.length === 3 && all.every((i) => i.version === '1.0.0') ? true : undefined;
    });
    const afterRollback = await eventually('calls spread over 3 providers of 1.0.0', async () => {
      const ports = await spread((a) => a.provider.version === '1.0.0' && a.provider.message === 'Bonjour').catch(() => new Set<number>());
      return ports.size === 3 ? ports : undefined;
    });
    assert.deepEqual([...afterRollback].sort(), await componentPorts());
    step('rolled back to 1.0.0, calls spread over 3 instances');

    // 5. A provider JVM killed with SIGKILL cannot deregister: its instance stays until its
    // lease (heartbeat 5 s × (3 + 1)) runs out; the engine restarts the replica, which registers
    // anew. When the restarted JVM registers before the lease ran out, it registers the same
    // endpoints and so takes the old instance over (same instanceId, as service-center does).
    const victim = (await registryProviders(s, appName))[0]!;
    const pid = pidListeningOn(endpointPort(victim));
    assert.ok(pid, `no process listens on ${endpointPort(victim)}`);
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    assert.ok((await registryProviders(s, appName)).some((i) => i.instanceId === victim.instanceId), 'a killed instance stays registered until its lease ends');
    const outcome = await eventually(
      'the killed instance to leave the registry, or its restarted replica to take it over',
      async () => {
        if (!(await registryProviders(s, appName)).some((i) => i.instanceId === victim.instanceId)) return 'left';
        const now = pidListeningOn(endpointPort(victim));
        return now && now !== pid ? 'taken over' : undefined;
      },
      2 * MINUTE,
    );
    const leaseGone = (Date.now() - killedAt) / 1000;
    if (outcome === 'left') assert.ok(leaseGone >= HEARTBEAT_SECONDS, `gone after ${leaseGone} s: before its lease could end`);
    await eventually('3 providers again (the replica restarted)', async () => ((await registryProviders(s, appName)).length === 3 ? true : undefined), 3 * MINUTE);
    const ports = new Set((await registryProviders(s, appName)).map(endpointPort));
    assert.equal(ports.size, 3, 'three providers on three ports');
    for (const p of ports) assert.ok(pidListeningOn(p), `a live provider listens on ${p}`);
    step(outcome === 'left' ? `SIGKILLed instance left the registry after ${leaseGone.toFixed(1)} s; replica restarted` : `the restarted replica re-registered its instance after ${leaseGone.toFixed(1)} s, before the lease ran out`);

    // 6. Stop: the providers deregister as they stop, so none is left when the job ends.
    const stop = await s.cas.post(`${providerPath}/action`, { action: 'stop' });
    assert.equal(stop.status, 200, stop.text);
    const stopJob = await waitJob(s, stop.body.job_id, 5 * MINUTE);
    assert.equal(stopJob.job.execution_status, 'SUCCEEDED', JSON.stringify(stopJob.tasks));
    assert.match(stopJob.tasks.at(-1).messages, /stopped 3 replica\(s\)$/m, 'every provider ended on SIGTERM, within its grace period');
    assert.deepEqual(await registryProviders(s, appName), []);
    const stopped = (await s.cas.get(providerPath)).body.status;
    assert.equal(stopped.instances.length, 0);
    assert.equal((await callConsumer()) ?? 'no answer', 'no answer', 'the consumer finds no provider');
    await eventually('node-caller to find no provider', async () => ((await nodeCall()).status === 502 ? true : undefined));
    step('stopped: no provider instance left in the registry');
  });
});
