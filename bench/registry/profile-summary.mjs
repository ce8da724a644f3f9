#!/usr/bin/env node
// Summarises a server CPU profile written by `BENCH_CPU_PROF=1 node bench/registry/run.mjs`.
// Only the samples taken during one benchmark phase are counted (phases.json holds the
// windows; V8 profile timestamps and process.hrtime share CLOCK_MONOTONIC on Linux).
//
//   node bench/registry/profile-summary.mjs [phase] [top=25]
//   phases: preload, heartbeat:openstage, find1:openstage, find100:openstage, register:openstage
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'bench/results/profiles');
const phaseName = process.argv[2] ?? 'heartbeat:openstage';
const top = Number(process.argv[3] ?? 25);
const { serverPid, phases } = JSON.parse(readFileSync(join(dir, 'phases.json'), 'utf8'));
const phase = phases.find((p) => p.name === phaseName);
if (!phase) throw new Error(`no phase ${phaseName}; have ${phases.map((p) => p.name).join(', ')}`);
const file = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && f.includes(`.${serverPid}.`)).sort().pop();
if (!file) throw new Error(`no .cpuprofile of pid ${serverPid} in ${dir}`);
const prof = JSON.parse(readFileSync(join(dir, file), 'utf8'));

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n) => {
  const f = n.callFrame;
  const url = f.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/');
  return `${f.functionName || '(anonymous)'} ${url ? `${url}:${f.lineNumber + 1}` : ''}`.trim();
};

const self = new Map();
const total = new Map();
let t = prof.startTime;
let counted = 0;
let idle = 0;
for (let i = 0; i < prof.samples.length; i++) {
  t += prof.timeDeltas[i];
  if (t < phase.startUs || t > phase.endUs) continue;
  const node = byId.get(prof.samples[i]);
  counted++;
  if (node.callFrame.functionName === '(idle)') idle++;
  self.set(label(node), (self.get(label(node)) ?? 0) + 1);
  const seen = new Set();
  for (let id = node.id; id !== undefined; id = parent.get(id)) {
    const l = label(byId.get(id));
    if (seen.has(l)) continue;
    seen.add(l);
    total.set(l, (total.get(l) ?? 0) + 1);
  }
}
const pct = (n) => `${((100 * n) / counted).toFixed(1).padStart(5)}%`;
console.log(`${file} · phase ${phaseName} · ${counted} samples (${pct(idle)} idle)`);
console.log('\nself time');
for (const [l, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(n)}  ${l}`);
console.log('\ntotal time (inclusive)');
for (const [l, n] of [...total].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(n)}  ${l}`);
