// The process measured by bench/deploy/kubernetes.mjs: the kubernetes runtime of OpenStage
// (dist/src/deploy/kubernetes/runtime.js) on the test cluster named by BENCH_K8S_DIR, in a
// namespace of its own. Modes (argv[2]):
//   ready N     one component of N replicas: prints {"readyMs": …} (roll-out call → all Ready)
//   watch N     N components of 1 replica each, then prints {"deployed": N} and keeps watching
//               until killed (the parent reads this process's CPU and RSS meanwhile)
//   idle        loads the same modules, prints {"deployed": 0} and waits: the baseline process
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../lib.mjs';

const mode = process.argv[2];
const count = Number(process.argv[3] ?? 0);
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

// Every mode loads the same modules (the Kubernetes client included), so the baseline differs
// from the watching process only by what it deployed and watches.
const { KubernetesRuntime } = await import(join(root, 'dist/src/deploy/kubernetes/runtime.js'));
const { renderConfig } = await import(join(root, 'dist/src/cas/config/render.js'));
const { createLogger } = await import(join(root, 'dist/src/core/log.js'));
if (mode === 'idle') {
  say({ deployed: 0 });
  setInterval(() => {}, 1 << 30);
} else {
  const kubeconfig = readFileSync(join(process.env.BENCH_K8S_DIR, 'kubeconfig'), 'utf8');
  const namespace = process.env.BENCH_K8S_NAMESPACE;
  const runtime = new KubernetesRuntime({
    log: createLogger('warn'),
    bindings: async () => [{ id: 'k', type: 'cce', parameters: { kubeconfig, namespace } }],
    deployed: async () => [],
    renderFile: renderConfig,
    requestTimeoutMs: 60_000,
  });
  const plan = (i, replicas) => ({
    project: 'bench', componentId: randomUUID(), componentName: `c${i}`, applicationId: 'a', applicationName: 'bench', environmentId: 'e', environmentName: 'bench',
    version: '1.0.0', source: { kind: 'image', url: 'registry.local/bench:1' }, stackType: 'Docker', replicas, env: { GREETING: 'hi' }, files: [],
    strategy: { type: 'OneBatchRelease' }, terminationGraceSeconds: 1, cluster: { resourceId: 'k', type: 'cce' },
  });
  const ctx = () => ({ project: 'bench', jobId: `JOB${randomUUID()}`, signal: AbortSignal.timeout(600_000), log: () => {} });
  const deploy = (p) => runtime.rollout({ plan: p, artifact: { runtime: 'kubernetes', image: 'registry.local/bench:1' } }, { target: p.replicas, batches: [p.replicas] }, ctx());
  if (mode === 'ready') {
    const p = plan(0, count);
    const t0 = performance.now();
    await deploy(p);
    say({ readyMs: Math.round(performance.now() - t0) });
    await runtime.shutdown(false);
    process.exit(0);
  }
  // watch: deploy 10 at a time, then keep watching.
  for (let i = 0; i < count; i += 10) await Promise.all(Array.from({ length: Math.min(10, count - i) }, (_, j) => deploy(plan(i + j, 1))));
  say({ deployed: count });
  setInterval(() => {}, 1 << 30);
}
