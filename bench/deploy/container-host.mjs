// The container runtime in a process of its own, driven by bench/deploy/containers.mjs: the
// process whose CPU and memory the benchmark reads (what the server spends on containers).
//
//   node bench/deploy/container-host.mjs <dataDir> <insecure registry host:port>
//
// Reads one JSON command per line on stdin and answers one JSON line on stdout:
//   {"cmd":"deploy","version":"1.0.1","url":"<image>","username":"…","password":"…","replicas":1}
//       fetch (pull) + build (name the image) + roll out; answers {"ports":[…]}
//   {"cmd":"scale","replicas":50}   scales the last deployed release; answers {"ports":[…]}
//   {"cmd":"stop"}                  stops every replica and removes the images; answers {}
// Errors answer {"error":"…"}. SIGTERM stops the replicas and exits.
import { createInterface } from 'node:readline';
import { imagePlan, openTestContainerRuntime } from '../../dist/test/helpers/container-runtime.js';

const [dataDir, registry] = process.argv.slice(2);
const host = await openTestContainerRuntime(dataDir, 'sqlite', { insecureRegistries: [registry], projects: ['p-container'], readyTimeoutMs: 300_000 });
// As at a server's start: adoption (nothing to adopt here) starts the readiness/liveness monitor.
await host.runtime.adopt(async () => undefined);
const plan0 = imagePlan('0', '');
const releases = [];
let last;

const commands = {
  async deploy({ version, url, username, password, replicas }) {
    const release = await host.release(imagePlan(version, url, { credentials: { username, password }, readinessProbe: { type: 'http', path: '/index.html' } }));
    releases.push(release);
    last = release;
    await host.runtime.rollout(release, { target: replicas, batches: [replicas] }, host.ctx(plan0.project));
    return { ports: host.runtime.replicas(plan0.project, plan0.componentId).map((r) => r.port) };
  },
  async scale({ replicas }) {
    await host.runtime.scale(last, replicas, host.ctx(plan0.project));
    return { ports: host.runtime.replicas(plan0.project, plan0.componentId).map((r) => r.port) };
  },
  async stop() {
    await host.runtime.stopAll(plan0.project, plan0.componentId, host.ctx(plan0.project));
    await host.runtime.removeArtifacts(plan0.project, plan0.componentId, releases.map((r) => r.artifact));
    releases.length = 0;
    return {};
  },
};

let busy = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  busy = busy.then(async () => {
    const command = JSON.parse(line);
    try {
      process.stdout.write(`${JSON.stringify(await commands[command.cmd](command))}\n`);
    } catch (err) {
      process.stdout.write(`${JSON.stringify({ error: String(err?.message ?? err) })}\n`);
    }
  });
});
process.once('SIGTERM', async () => {
  await host.runtime.shutdown(true).catch(() => undefined);
  await host.db.close().catch(() => undefined);
  process.exit(0);
});
