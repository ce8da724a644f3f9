import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { until } from './registry-client.js';
import { freshDatabase } from './server.js';

const CLI = new URL('../../src/cli.js', import.meta.url).pathname;

/** A free loopback TCP port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Starts `openstage serve` as a child process and waits until `readyPath` answers 200. */
export async function startCli(port: number, dataDir: string, db: string, readyPath = '/health'): Promise<ChildProcess> {
  // Load shedding off, as in startServer: a test machine's own hiccups must not answer 429.
  const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port), '--data-dir', dataDir, '--db', db, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, OPENSTAGE_HTTP_SHED_LAG_MS: '0' } });
  await until(async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}${readyPath}`)).status === 200;
    } catch {
      return false;
    }
    // A cold start on PostgreSQL (migrations, bootstrap, every route's schema compiled) takes
    // 10-20 s on a loaded 2-core CI machine.
  }, 60_000);
  return child;
}

/** Kills a child with SIGKILL and waits for it to exit. */
export async function killHard(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** A data dir, a database and a free port for CLI children; cleaned up when the test ends. */
export async function cliFixture(t: TestContext): Promise<{ dataDir: string; db: string; port: number; children: ChildProcess[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'openstage-cli-'));
  const { db, drop } = await freshDatabase();
  const fixture = { dataDir, db, port: await freePort(), children: [] as ChildProcess[] };
  t.after(async () => {
    for (const child of fixture.children) child.kill('SIGKILL');
    await drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return fixture;
}
