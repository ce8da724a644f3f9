// Times the Tomcat runtime's steps on this machine (not part of the test run):
// download + verify + unpack of the Tomcat distribution into a fresh cache, the Maven build of
// examples/tomcat-hello, and a replica's start-to-ready (spawn java → GET /health 200).
// Usage: npm run build && node bench/deploy/tomcat-steps.mjs
// Step timings for a closing note, not a benchmark against a baseline.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../dist/src/core/config.js';
import { ensureTomcatHome, prepareCatalinaBase } from '../../dist/src/deploy/build/tomcat.js';

const root = new URL('../..', import.meta.url).pathname;
const env = { PATH: process.env.PATH, HOME: process.env.HOME };
const work = mkdtempSync(join(tmpdir(), 'openstage-measure-'));
const d = loadConfig({ overrides: {} }).deploy;
let t0 = performance.now();
const home = await ensureTomcatHome({ home: '', version: d.tomcatVersion, baseUrl: d.tomcatUrl, cacheDir: join(work, 'cache'), address: '127.0.0.1' }, { env, logFile: join(work, 'log'), signal: new AbortController().signal, log: () => {} });
console.log(`Tomcat ${d.tomcatVersion} download + sha512 + unpack: ${Math.round(performance.now() - t0)} ms`);
cpSync(join(root, 'examples', 'tomcat-hello'), join(work, 'app'), { recursive: true });
t0 = performance.now();
execFileSync('mvn', ['-q', '-B', 'package', '-DskipTests'], { cwd: join(work, 'app'), env, stdio: 'inherit' });
console.log(`mvn -q -B package (tomcat-hello, ~/.m2 warm): ${Math.round(performance.now() - t0)} ms`);
const port = 28000 + Math.floor(Math.random() * 1000);
const args = prepareCatalinaBase(join(work, 'base'), join(work, 'app'), { home, war: 'target/tomcat-hello.war', address: '127.0.0.1' }, port);
for (let i = 0; i < 3; i++) {
  rmSync(join(work, 'base', 'webapps', 'ROOT'), { recursive: true, force: true });
  t0 = performance.now();
  const child = spawn('java', args, { env: { ...env, PORT: String(port), CAS_INSTANCE_VERSION: '1.0.0' }, stdio: 'ignore' });
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const ready = Math.round(performance.now() - t0);
  t0 = performance.now();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  console.log(`replica start-to-ready (run ${i + 1}): ${ready} ms; SIGTERM to exit: ${Math.round(performance.now() - t0)} ms`);
}
rmSync(work, { recursive: true, force: true });
