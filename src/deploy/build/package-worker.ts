/**
 * Fetches and unpacks a component package (servicestage.md §4.1 source kind `package`) as a
 * separate, confined process: `node package-worker.js <json>` runs inside the build sandbox
 * (src/deploy/process/sandbox.ts) as the project's user, so a `file://` URL reads only what
 * that user may see, and a huge download or a zip bomb costs the worker — bounded by its
 * control group — never OpenStage's heap.
 *
 * Input (argv[2], JSON): `{url, dir, maxPackageBytes, maxUnpackedBytes}`; user info of an
 * http(s) URL comes as the environment variable PACKAGE_AUTHORIZATION (never in argv).
 * Output: JSON lines on stdout — `{"log": text}` for progress, then `{"revision": url}` on
 * success or `{"error": text}` (exit code 2) on failure.
 *
 * - http(s) is streamed to disk with a byte counter and aborted past maxPackageBytes;
 * - a .jar or .war is kept as is; a .zip is inflated entry by entry to disk (paths checked,
 *   total size counted while inflating, aborted past maxUnpackedBytes); a .tar.gz / .tgz is
 *   gunzipped in a stream counted the same way and unpacked by `tar`; a single top-level
 *   folder is stripped.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, cpSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, normalize } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { Unzip, UnzipInflate, type UnzipFile } from 'fflate';

interface Input {
  url: string;
  dir: string;
  maxPackageBytes: number;
  maxUnpackedBytes: number;
}

class Refused extends Error {}

const say = (o: Record<string, string>): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

/** A URL without user info, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

/** Counts bytes passing through and fails past `max`. */
function counter(max: number, what: string): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      total += chunk.length;
      if (total > max) return done(new Refused(`${what} is larger than ${max} bytes`));
      done(null, chunk);
    },
  });
}

async function download(input: Input, file: string): Promise<void> {
  const { url } = input;
  if (url.startsWith('file://')) {
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch (err) {
      throw new Refused(`cannot read ${url}: ${(err as Error).message}`);
    }
    try {
      await pipeline(createReadStream(path), counter(input.maxPackageBytes, 'the package'), createWriteStream(file));
    } catch (err) {
      if (err instanceof Refused) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new Refused(`cannot read ${url}: ${code === 'ENOENT' || code === 'EACCES' ? `${code} (file:// packages must be under a path listed in deploy.sourceRoots, readable by the project's user)` : (code ?? (err as Error).message)}`);
    }
    return;
  }
  const headers: Record<string, string> = {};
  if (process.env.PACKAGE_AUTHORIZATION) headers.Authorization = process.env.PACKAGE_AUTHORIZATION;
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', headers });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Refused(`cannot download ${redact(url)}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
  if (!res.ok || !res.body) throw new Refused(`cannot download ${redact(url)}: HTTP ${res.status}`);
  const length = Number(res.headers.get('content-length') ?? 0);
  if (length > input.maxPackageBytes) throw new Refused(`the package is larger than ${input.maxPackageBytes} bytes (Content-Length ${length})`);
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), counter(input.maxPackageBytes, 'the package'), createWriteStream(file));
}

/** Inflates a zip to `dir` entry by entry, checking paths and counting the inflated bytes. */
async function unzip(file: string, dir: string, max: number, name: string): Promise<void> {
  let total = 0;
  let failure: Error | undefined;
  const pending: Promise<unknown>[] = [];
  const unzipper = new Unzip((entry: UnzipFile) => {
    const path = entry.name;
    if (path.endsWith('/')) return;
    if (path.startsWith('/') || path.split('/').some((p) => p === '..') || normalize(path).startsWith('..')) {
      failure ??= new Refused(`${name} holds an unsafe path: ${path}`);
      return;
    }
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    const out = createWriteStream(target);
    // 'close' also comes after destroy() (a refused entry), when 'finish' never does.
    pending.push(new Promise<void>((resolve) => out.once('close', () => resolve())));
    entry.ondata = (err, data, final) => {
      if (err) {
        failure ??= new Refused(`${name} is not a valid zip archive: ${err.message}`);
        out.destroy();
        return;
      }
      total += data.length;
      if (total > max) {
        failure ??= new Refused(`${name} unpacks to more than ${max} bytes`);
        out.destroy();
        entry.terminate();
        return;
      }
      out.write(data);
      if (final) out.end();
    };
    entry.start();
  });
  unzipper.register(UnzipInflate);
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    if (failure) break;
    try {
      unzipper.push(chunk as Uint8Array);
    } catch (err) {
      failure ??= new Refused(`${name} is not a valid zip archive: ${(err as Error).message}`);
    }
  }
  if (!failure) {
    try {
      unzipper.push(new Uint8Array(0), true);
    } catch (err) {
      failure = new Refused(`${name} is not a valid zip archive: ${(err as Error).message}`);
    }
  }
  await Promise.allSettled(pending);
  if (failure) throw failure;
}

/** Unpacks a .tar.gz to `dir`: gunzip in a counted stream, `tar -x` from stdin. */
async function untar(file: string, dir: string, max: number, name: string): Promise<void> {
  const tar = spawn('tar', ['-x', '-f', '-', '-C', dir, '--no-same-owner', '--no-same-permissions'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  tar.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => tar.once('close', resolve));
  try {
    await pipeline(createReadStream(file), createGunzip(), counter(max, `${name} unpacked`), tar.stdin);
  } catch (err) {
    tar.kill('SIGKILL');
    await exited;
    if (err instanceof Refused) throw err;
    throw new Refused(`${name} is not a valid .tar.gz archive: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const code = await exited;
  if (code !== 0) throw new Refused(`tar could not unpack ${name} (exit code ${code}): ${stderr.trim().split('\n').slice(-3).join('; ')}`);
}

/** When `dir` holds one folder (besides .download), moves its contents up. */
function stripSingleFolder(dir: string): void {
  const entries = readdirSync(dir).filter((e) => e !== '.download');
  if (entries.length !== 1) return;
  const only = join(dir, entries[0]!);
  if (!statSync(only).isDirectory()) return;
  const tmp = `${only}.strip`;
  renameSync(only, tmp);
  cpSync(tmp, dir, { recursive: true, verbatimSymlinks: true });
  rmSync(tmp, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as Input;
  let name: string;
  try {
    name = basename(new URL(input.url).pathname) || 'package';
  } catch {
    throw new Refused(`package URLs must be http://, https:// or file://, not ${redact(input.url)}`);
  }
  if (!/^(https?|file):\/\//i.test(input.url)) throw new Refused(`package URLs must be http://, https:// or file://, not ${redact(input.url)}`);
  if (!/\.(jar|war|zip|tar\.gz|tgz)$/i.test(name)) throw new Refused(`unsupported package ${name}: use a .jar, .war, .zip, .tar.gz or .tgz`);
  const downloads = join(input.dir, '.download');
  mkdirSync(downloads, { recursive: true });
  const file = join(downloads, name);
  say({ log: `fetch ${redact(input.url)}` });
  await download(input, file);
  if (/\.(jar|war)$/i.test(name)) renameSync(file, join(input.dir, name));
  else if (/\.zip$/i.test(name)) await unzip(file, input.dir, input.maxUnpackedBytes, name);
  else await untar(file, input.dir, input.maxUnpackedBytes, name);
  rmSync(downloads, { recursive: true, force: true });
  if (!/\.(jar|war)$/i.test(name)) stripSingleFolder(input.dir);
  say({ revision: redact(input.url) });
}

// Ended with work left unsettled would exit 0 silently: say so instead.
process.once('beforeExit', () => {
  say({ error: 'package fetch failed: the worker stopped before it finished' });
  process.exit(2);
});
main().then(
  () => process.exit(0),
  (err: unknown) => {
    say({ error: err instanceof Refused ? err.message : `package fetch failed: ${(err as Error).message}` });
    process.exit(2);
  },
);
