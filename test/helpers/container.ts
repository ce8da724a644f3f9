import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { Podman } from '../../src/deploy/container/podman.js';
import { podmanPaths, type PodmanEnv, type PodmanSetup } from '../../src/deploy/container/setup.js';

/**
 * Helpers of the container tests: a podman of OpenStage's own setup in a temp directory, and
 * build contexts of images made `FROM scratch` with Debian's busybox-static (no registry on the
 * internet is reachable from the test machines).
 */

/** Debian's busybox-static (a static binary: it runs in an image holding nothing else). */
export const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => {
  try {
    // A static ELF has no PT_INTERP program header; the dynamic busybox package has one.
    return !readFileSync(p).includes('/lib64/ld-linux');
  } catch {
    return false;
  }
});

/** True while a process whose command line mentions `text` runs (podman's clean-up commands name the run root). */
function processMentions(text: string): boolean {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)) return true;
    } catch {
      // gone
    }
  }
  return false;
}

/**
 * Deletes a podman setup's directories once podman's clean-up commands (started by conmon
 * when a container ends; they write the run dir) are done. Call after removing the containers.
 */
export async function removePodmanDirs(setupDir: string, runDir = podmanPaths({ dir: setupDir }).run): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (processMentions(join(runDir, 'storage')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  rmSync(setupDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  rmSync(runDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}

/**
 * A podman with OpenStage's configuration in a temp dir. When the test ends its containers are
 * removed, podman's clean-up commands are waited for (they write the run dir), and the dirs
 * are deleted.
 */
export function testPodman(t: TestContext, setup: Omit<PodmanSetup, 'dir'> = {}): { podman: Podman; dir: string; env: PodmanEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'openstage-podman-'));
  const full = { ...setup, dir: join(dir, 'containers') };
  const run = podmanPaths(full).run;
  let podman: Podman | undefined;
  t.after(async () => {
    if (podman) {
      for (const c of await podman.list({}).catch(() => [])) await podman.remove(c.id).catch(() => undefined);
      await podman.sweepBuildContainers().catch(() => undefined);
    }
    await removePodmanDirs(full.dir, run);
    rmSync(dir, { recursive: true, force: true });
  });
  podman = new Podman({ setup: full, path: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' });
  return { podman, dir, env: podman.environment() };
}

/**
 * Writes a build context of a busybox image: `rootfs/` (busybox with its applets as links,
 * /tmp, /www) copied by `COPY rootfs/ /`, and a Dockerfile ending with `extra` lines.
 * The default CMD serves /www on 127.0.0.1:$PORT with busybox httpd; /cgi-bin/env answers the
 * environment it was started with, /cgi-bin/cat?<path> a file's content, /cgi-bin/id its ids,
 * /index.html holds `index`. SIGTERM ends it at once (exit 0).
 * @returns the context directory
 */
export function busyboxContext(dir: string, opts: { index?: string; extra?: string[]; dockerfileName?: string } = {}): string {
  if (!BUSYBOX) throw new Error('busybox-static is not installed: apt-get install busybox-static');
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'tmp', 'www/cgi-bin', 'etc', 'proc', 'sys', 'dev', 'run']) mkdirSync(join(rootfs, d), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX, join(rootfs, 'bin', 'busybox'));
  chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
  for (const applet of ['sh', 'env', 'cat', 'echo', 'id', 'httpd', 'sleep', 'ls', 'sed', 'kill', 'touch', 'mkdir', 'grep']) symlinkSync('busybox', join(rootfs, 'bin', applet));
  writeFileSync(join(rootfs, 'www', 'index.html'), opts.index ?? 'index');
  const cgi = (body: string): string => `#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n${body}\n`;
  writeFileSync(join(rootfs, 'www', 'cgi-bin', 'env'), cgi('env'), { mode: 0o755 });
  // /cgi-bin/cat?<absolute path>: the file's content, or the error.
  writeFileSync(join(rootfs, 'www', 'cgi-bin', 'cat'), cgi('cat "$QUERY_STRING" 2>&1'), { mode: 0o755 });
  // /cgi-bin/id: the uid and gid the replica runs as.
  writeFileSync(join(rootfs, 'www', 'cgi-bin', 'id'), cgi('id'), { mode: 0o755 });
  writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
  const lines = [
    'FROM scratch',
    'COPY rootfs/ /',
    'ENV PATH=/bin',
    `CMD ["/bin/sh", "-c", "trap 'exit 0' TERM; httpd -f -p 127.0.0.1:$PORT -h /www & wait"]`,
    ...(opts.extra ?? []),
  ];
  const dockerfile = join(dir, opts.dockerfileName ?? 'Dockerfile');
  mkdirSync(dirname(dockerfile), { recursive: true });
  writeFileSync(dockerfile, `${lines.join('\n')}\n`);
  return dir;
}

/** A TCP port free on 127.0.0.1 at the time of the call (for servers that cannot listen on port 0 and report it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** GET http://127.0.0.1:<port><path> until it answers (or `timeoutMs` passes). @returns the body */
export async function waitForHttp(port: number, path: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let wait = 50; Date.now() < deadline; wait = Math.min(wait * 2, 500)) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      if (res.ok) return await res.text();
      last = new Error(`HTTP ${res.status}`);
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, wait));
  }
  throw new Error(`nothing answered on 127.0.0.1:${port}${path} within ${timeoutMs} ms: ${String(last)}`);
}
