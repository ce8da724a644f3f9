/**
 * Fetches and unpacks a component package (servicestage.md §4.1 source kind `package`) as a
 * separate, confined process: `node package-worker.js <json>` runs inside the build sandbox
 * (src/deploy/process/sandbox.ts) as the project's user, so a `file://` URL reads only what
 * that user may see, and a huge download or a zip bomb costs the worker — bounded by its
 * control group — never OpenStage's heap.
 *
 * Input (argv[2], JSON): `{url, dir, maxPackageBytes, maxUnpackedBytes, checksum?}`; user info
 * of an http(s) URL comes as the environment variable PACKAGE_AUTHORIZATION (never in argv).
 * Output: JSON lines on stdout — `{"log": text}` for progress, then `{"revision": url}` on
 * success (with `"digest": "<algorithm>:<hex>"` when a checksum was asked) or
 * `{"error": text}` (exit code 2) on failure.
 *
 * `checksum` (a tool of a runtime stack: a JDK, a Tomcat distribution): only a .zip or
 * .tar.gz is taken, and the download must match `checksum.expected` (hex; sha1, sha256 or
 * sha512 by its length) or the first of `checksum.urls` (checksum files beside the archive,
 * `<hex>[ <name>]`) that exists; none → refused, nothing unpacked.
 *
 * - http(s) is streamed to disk with a byte counter and aborted past maxPackageBytes;
 * - a .jar or .war is kept as is; a .zip is inflated entry by entry to disk (paths checked,
 *   total size counted while inflating, aborted past maxUnpackedBytes); a .tar.gz / .tgz is
 *   gunzipped in a stream counted the same way and unpacked by `tar`; a single top-level
 *   folder is stripped.
 */
import { spawn } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream, cpSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
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
  checksum?: { expected?: string; urls?: string[] };
}

/** Hash algorithms of a checksum by the length of its hex digest. */
const ALGORITHM_BY_HEX_LENGTH: Record<number, 'sha1' | 'sha256' | 'sha512'> = { 40: 'sha1', 64: 'sha256', 128: 'sha512' };

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

/** Passes bytes through into a hash. */
function hashing(hash: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

/**
 * The expected digest of a tool: the given one, or the first token of the first checksum file
 * that exists (at most 4 KiB each). @throws Refused when none can be had or it is not a digest
 */
async function expectedDigest(checksum: NonNullable<Input['checksum']>, url: string): Promise<{ algorithm: 'sha1' | 'sha256' | 'sha512'; hex: string; from: string }> {
  let hex = checksum.expected?.trim().toLowerCase();
  let from = 'the stack\'s parameters';
  for (const sumUrl of hex ? [] : (checksum.urls ?? [])) {
    const text = await smallText(sumUrl);
    if (text === undefined) continue;
    hex = text.trim().split(/\s+/)[0]?.toLowerCase();
    from = redact(sumUrl);
    break;
  }
  if (!hex) throw new Refused(`cannot verify ${redact(url)}: no checksum was given and none of ${(checksum.urls ?? []).map(redact).join(', ')} exists`);
  const algorithm = ALGORITHM_BY_HEX_LENGTH[hex.length];
  if (!algorithm || !/^[0-9a-f]+$/.test(hex)) throw new Refused(`the checksum from ${from} is not a sha1, sha256 or sha512 hex digest`);
  return { algorithm, hex, from };
}

/** The text of a small http(s) or file URL, or undefined when it does not exist. */
async function smallText(url: string): Promise<string | undefined> {
  if (url.startsWith('file://')) {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of createReadStream(fileURLToPath(url), { end: 4095 })) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    } catch {
      return undefined;
    }
  }
  const headers: Record<string, string> = {};
  if (process.env.PACKAGE_AUTHORIZATION) headers.Authorization = process.env.PACKAGE_AUTHORIZATION;
  try {
    const res = await fetch(url, { redirect: 'follow', headers });
    if (!res.ok) return undefined;
    return (await res.text()).slice(0, 4096);
  } catch {
    return undefined;
  }
}

async function download(input: Input, file: string, hash?: Hash): Promise<void> {
  const { url } = input;
  const through = (): Transform[] => (hash ? [hashing(hash)] : []);
  if (url.startsWith('file://')) {
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch (err) {
      throw new Refused(`cannot read ${url}: ${(err as Error).message}`);
    }
    try {
      await pipeline([createReadStream(path), counter(input.maxPackageBytes, 'the package'), ...through(), createWriteStream(file)]);
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
  await pipeline([Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), counter(input.maxPackageBytes, 'the package'), ...through(), createWriteStream(file)]);
}

/** Resolves once `out` has written what it buffered (at once when it needs no drain), or has closed. */
function drained(out: WriteStream): Promise<void> {
  if (!out.writableNeedDrain || out.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}

/** Inflates a zip to `dir` entry by entry, checking paths and counting the inflated bytes. */
async function unzip(file: string, dir: string, max: number, name: string): Promise<void> {
  let total = 0;
  let failure: Error | undefined;
  const pending: Promise<unknown>[] = [];
  // Entries being written: after each pushed chunk the worker waits until their buffers drain,
  // so it holds at most one chunk's inflated bytes (deflate inflates at most ~1,032 : 1).
  const writing = new Set<WriteStream>();
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
    // A write still queued when a refused entry destroys the stream fails with
    // ERR_STREAM_DESTROYED; unheard, that error ended the worker with a stack trace instead
    // of the refusal. The first failure is the one reported.
    out.on('error', (err) => (failure ??= new Refused(`${name}: cannot write ${path}: ${err.message}`)));
    writing.add(out);
    // 'close' also comes after destroy() (a refused entry), when 'finish' never does.
    pending.push(new Promise<void>((resolve) => out.once('close', () => (writing.delete(out), resolve()))));
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
  for await (const chunk of createReadStream(file, { highWaterMark: 16 * 1024 })) {
    if (failure) break;
    try {
      unzipper.push(chunk as Uint8Array);
    } catch (err) {
      failure ??= new Refused(`${name} is not a valid zip archive: ${(err as Error).message}`);
    }
    for (const out of writing) await drained(out);
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
    const reason = (err as NodeJS.ErrnoException).code;
    // tar stops reading at the archive's end marker and may close its stdin before the
    // padding after it is written (seen on 2% of small archives): no failure when tar ends well.
    const closedByTar = !(err instanceof Refused) && (reason === 'EPIPE' || reason === 'ERR_STREAM_PREMATURE_CLOSE');
    const timer = setTimeout(() => tar.kill('SIGKILL'), closedByTar ? 10_000 : 0);
    const code = await exited;
    clearTimeout(timer);
    if (closedByTar && code === 0) return;
    if (err instanceof Refused) throw err;
    throw new Refused(`${name} is not a valid .tar.gz archive: ${reason ?? (err as Error).message}`);
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
  if (input.checksum && !/\.(zip|tar\.gz|tgz)$/i.test(name)) throw new Refused(`unsupported archive ${name}: use a .zip, .tar.gz or .tgz`);
  const expected = input.checksum ? await expectedDigest(input.checksum, input.url) : undefined;
  const hash = expected ? createHash(expected.algorithm) : undefined;
  const downloads = join(input.dir, '.download');
  mkdirSync(downloads, { recursive: true });
  const file = join(downloads, name);
  say({ log: `fetch ${redact(input.url)}` });
  await download(input, file, hash);
  let digest: string | undefined;
  if (expected && hash) {
    const actual = hash.digest('hex');
    if (actual !== expected.hex) throw new Refused(`${redact(input.url)} does not match its ${expected.algorithm} checksum from ${expected.from} (expected ${expected.hex}, got ${actual}); nothing was kept`);
    digest = `${expected.algorithm}:${actual}`;
    say({ log: `${expected.algorithm} checksum verified (${expected.from})` });
  }
  if (/\.(jar|war)$/i.test(name)) renameSync(file, join(input.dir, name));
  else if (/\.zip$/i.test(name)) await unzip(file, input.dir, input.maxUnpackedBytes, name);
  else await untar(file, input.dir, input.maxUnpackedBytes, name);
  rmSync(downloads, { recursive: true, force: true });
  if (!/\.(jar|war)$/i.test(name)) stripSingleFolder(input.dir);
  say({ revision: redact(input.url), ...(digest ? { digest } : {}) });
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
