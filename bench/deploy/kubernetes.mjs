#!/usr/bin/env node
// Kubernetes runtime benchmark, on the test cluster (scripts/k8s-test-cluster.sh: real
// control plane, simulated KWOK nodes — pods become Ready but nothing runs, so the figures are
// OpenStage's and the control plane's, not an image's start).
//
//   npm run build && node bench/deploy/kubernetes.mjs
//
// (a) create → Ready: the runtime's roll-out call until every pod is Ready, for one component
//     of 1 and of BENCH_K8S_REPLICAS (100) replicas, BENCH_REPEATS times each. Baseline in the
//     same run: `kubectl apply` of a plain 1-replica / 100-replica Deployment and
//     `kubectl rollout status` until it is available.
// (b) Watching: CPU (user + system, /proc) and RSS of the process running the runtime over
//     BENCH_WINDOW_SECONDS while it watches BENCH_K8S_COMPONENTS (100) components of 1 replica,
//     against the same worker with the same modules loaded watching nothing (the baseline,
//     measured first).
// Each worker (bench/deploy/k8s-worker.mjs) uses a namespace of its own, deleted at the end.
//
// Environment: BENCH_K8S_DIR (a cluster already up; default: one is started and stopped here),
// BENCH_REPEATS=3, BENCH_K8S_REPLICAS=100, BENCH_K8S_COMPONENTS=100, BENCH_WINDOW_SECONDS=30.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Children, cpuSecondsOf, env, log, root, rssOf, writeResults } from '../lib.mjs';

const REPEATS = env('BENCH_REPEATS', 3);
const REPLICAS = env('BENCH_K8S_REPLICAS', 100);
const COMPONENTS = env('BENCH_K8S_COMPONENTS', 100);
const WINDOW_SECONDS = env('BENCH_WINDOW_SECONDS', 30);
const script = join(root, 'scripts/k8s-test-cluster.sh');
const children = new Children(root);

let dir = process.env.BENCH_K8S_DIR;
let ownCluster;
if (!dir) {
  ownCluster = mkdtempSync(join(tmpdir(), 'openstage-bench-k8s-'));
  log('starting the test cluster');
  if (spawnSync('bash', [script, 'up', ownCluster], { stdio: 'inherit' }).status !== 0) throw new Error('the test cluster did not start');
  dir = ownCluster;
}
const kubectlBin = execFileSync('bash', [script, 'kubectl-path'], { encoding: 'utf8' }).trim();
const kubectl = (...args) => execFileSync(kubectlBin, ['--kubeconfig', join(dir, 'kubeconfig'), ...args], { encoding: 'utf8' });
const namespaces = [];
const newNamespace = () => {
  const ns = `bench-${Date.now().toString(36)}-${namespaces.length}`;
  kubectl('create', 'namespace', ns);
  namespaces.push(ns);
  // Timed work starts once pods can be admitted (the namespace's default service account exists).
  for (let i = 0; i < 600; i++) {
    if (spawnSync(kubectlBin, ['--kubeconfig', join(dir, 'kubeconfig'), '-n', ns, 'get', 'serviceaccount', 'default'], { stdio: 'ignore' }).status === 0) break;
    spawnSync('sleep', ['0.1']);
  }
  return ns;
};

/** Starts a worker; resolves with it and its first JSON line. */
function worker(args) {
  const child = children.start('worker', [join(root, 'bench/deploy/k8s-worker.mjs'), ...args], { BENCH_K8S_DIR: dir, BENCH_K8S_NAMESPACE: newNamespace() });
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    lines.once('line', (l) => resolve({ child, first: JSON.parse(l) }));
    child.exited.then(({ code }) => reject(new Error(`worker ${args.join(' ')} exited with ${code}`)));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  // (a) create → Ready.
  const ready = {};
  for (const n of [1, REPLICAS]) {
    const runtime = [];
    const plain = [];
    for (let i = 0; i < REPEATS; i++) {
      const { child, first } = await worker(['ready', String(n)]);
      await child.exited;
      runtime.push(first.readyMs);
      const ns = newNamespace();
      const t0 = performance.now();
      kubectl('-n', ns, 'create', 'deployment', 'plain', '--image=registry.local/bench:1', `--replicas=${n}`);
      kubectl('-n', ns, 'rollout', 'status', 'deployment/plain', '--timeout=600s');
      plain.push(Math.round(performance.now() - t0));
      log(`${n} replica(s): runtime ${first.readyMs} ms, kubectl ${plain.at(-1)} ms`);
    }
    ready[n] = { runtimeMs: median(runtime), kubectlMs: median(plain), ratio: +(median(runtime) / median(plain)).toFixed(2), runs: { runtime, kubectl: plain } };
  }

  // (b) watching: baseline (idle worker), then COMPONENTS components.
  const windowOf = async (args) => {
    const { child, first } = await worker(args);
    const cpu0 = cpuSecondsOf(child.pid);
    await new Promise((r) => setTimeout(r, WINDOW_SECONDS * 1000));
    const cpu = cpuSecondsOf(child.pid) - cpu0;
    const mem = rssOf(child.pid);
    await children.stop(child);
    return { deployed: first.deployed, cpuPercent: +((cpu / WINDOW_SECONDS) * 100).toFixed(2), rssMB: +mem.rssMB.toFixed(1) };
  };
  log('watch window: baseline');
  const idle = await windowOf(['idle']);
  log(`watch window: ${COMPONENTS} components`);
  const watching = await windowOf(['watch', String(COMPONENTS)]);

  const report = { date: new Date().toISOString(), cpus: cpus().length, loadavg: loadavg(), settings: { REPEATS, REPLICAS, COMPONENTS, WINDOW_SECONDS }, ready, watch: { baseline: idle, watching } };
  const md = `# Kubernetes runtime benchmark (${report.date})

Test cluster: real control plane, simulated KWOK nodes (no container runs). ${report.cpus} CPUs, load ${report.loadavg.map((x) => x.toFixed(1)).join(' ')}.

## create → Ready (median of ${REPEATS})
| replicas | runtime roll-out | kubectl create + rollout status (baseline) | ratio |
|---|---|---|---|
${Object.entries(ready).map(([n, r]) => `| ${n} | ${r.runtimeMs} ms | ${r.kubectlMs} ms | ${r.ratio} |`).join('\n')}

## Watching ${COMPONENTS} components (1 replica each), ${WINDOW_SECONDS} s window
| process | CPU | RSS |
|---|---|---|
| baseline: the same worker (runtime and Kubernetes client loaded) watching nothing | ${idle.cpuPercent} % | ${idle.rssMB} MB |
| runtime watching ${watching.deployed} components | ${watching.cpuPercent} % | ${watching.rssMB} MB |
| ratio | – | ${(watching.rssMB / idle.rssMB).toFixed(2)} |
`;
  writeResults('deploy-kubernetes', report, md);
} finally {
  children.killAll();
  for (const ns of namespaces) spawnSync(kubectlBin, ['--kubeconfig', join(dir, 'kubeconfig'), 'delete', 'namespace', ns, '--wait=false'], { stdio: 'ignore' });
  if (ownCluster) {
    spawnSync('bash', [script, 'down', ownCluster], { stdio: 'inherit' });
    rmSync(ownCluster, { recursive: true, force: true });
  }
}
