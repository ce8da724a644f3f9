import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The test Kubernetes cluster (scripts/k8s-test-cluster.sh: a real control plane with
 * simulated KWOK nodes — pods become Running/Ready but no image is pulled and no container
 * runs). The test runner starts one for its Kubernetes phase and names its directory in
 * OPENSTAGE_TEST_K8S_DIR; a test file run alone starts its own (the binaries must be built:
 * `scripts/k8s-test-cluster.sh build`) and stops it when the process exits.
 */
export interface TestCluster {
  dir: string;
  /** kubeconfig of a cluster admin (system:masters), self-contained. */
  kubeconfig: string;
  /** kubeconfig of a user with no rights at all (authenticated, nothing allowed). */
  kubeconfigNobody: string;
  /** The API server's URL. */
  server: string;
}

const root = new URL('../../../', import.meta.url).pathname;
let cluster: TestCluster | undefined;

function read(dir: string): TestCluster {
  const kubeconfig = readFileSync(join(dir, 'kubeconfig'), 'utf8');
  return { dir, kubeconfig, kubeconfigNobody: readFileSync(join(dir, 'kubeconfig-nobody'), 'utf8'), server: /server: (\S+)/.exec(kubeconfig)![1]! };
}

/** The cluster for this test process (started on first use when the runner gave none). @throws when it cannot start */
export function testCluster(): TestCluster {
  if (cluster) return cluster;
  const given = process.env.OPENSTAGE_TEST_K8S_DIR;
  if (given) {
    if (!existsSync(join(given, 'kubeconfig'))) throw new Error(`OPENSTAGE_TEST_K8S_DIR=${given} has no kubeconfig: is the cluster up?`);
    cluster = read(given);
    return cluster;
  }
  const dir = mkdtempSync(join(tmpdir(), 'openstage-k8s-'));
  const script = join(root, 'scripts', 'k8s-test-cluster.sh');
  const up = spawnSync('bash', [script, 'up', dir], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
  if (up.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`scripts/k8s-test-cluster.sh up failed: ${up.stderr}`);
  }
  process.on('exit', () => {
    spawnSync('bash', [script, 'down', dir], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });
  cluster = read(dir);
  return cluster;
}

/** Runs kubectl against the test cluster as its admin. @returns stdout @throws with stderr when it fails */
export function kubectl(...args: string[]): string {
  const c = testCluster();
  const bin = process.env.OPENSTAGE_TEST_KUBECTL ?? kubectlPath();
  const r = spawnSync(bin, ['--kubeconfig', join(c.dir, 'kubeconfig'), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function kubectlPath(): string {
  const r = spawnSync('bash', [join(root, 'scripts', 'k8s-test-cluster.sh'), 'kubectl-path'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`no kubectl: ${r.stderr}`);
  return r.stdout.trim();
}

/** A fresh namespace name for one test (DNS label). */
export function uniqNamespace(prefix = 'ns'): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}
