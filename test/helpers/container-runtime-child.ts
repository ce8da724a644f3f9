/**
 * A container runtime in a process of its own, for the test that kills it with SIGKILL:
 * `node container-runtime-child.js <dataDir> <db> <plan JSON> <replicas> <insecure registry>`
 * deploys the plan (fetch, build, one batch of `replicas`), prints one JSON line
 * `{artifact, instanceIds}` and then waits to be killed.
 */
import type { ComponentPlan } from '../../src/deploy/types.js';
import { openTestContainerRuntime } from './container-runtime.js';

const [dataDir, db, planJson, replicas, insecure] = process.argv.slice(2);
const plan = JSON.parse(planJson!) as ComponentPlan;
const t = await openTestContainerRuntime(dataDir!, db!, { insecureRegistries: insecure ? [insecure] : [], projects: [plan.project] });
const release = await t.release(plan);
await t.runtime.rollout(release, { target: Number(replicas), batches: [Number(replicas)] }, t.ctx(plan.project));
const instanceIds = t.runtime.replicas(plan.project, plan.componentId).map((r) => r.instanceId);
process.stdout.write(`${JSON.stringify({ artifact: release.artifact, instanceIds })}\n`);
setInterval(() => undefined, 60_000);
