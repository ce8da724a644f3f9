import { fileURLToPath } from 'node:url';
import { lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BuildError, redact, type Runner } from './build/run.js';

/**
 * A component's `source` (servicestage.md §4.1 SourceObject) as the engine reads it:
 * `code` (a git repository at `repo_ref`), `package` (an http(s):// or file:// URL of a jar,
 * war, zip or tar.gz) or `image` (the container runtime's).
 */
export interface SourceSpec {
  kind: 'code' | 'package' | 'image';
  url?: string;
  repo_url?: string;
  repo_ref?: string;
}

/** Credentials for a git clone (from the git authorization named by `repo_auth`). */
export interface GitCredentials {
  username: string;
  password: string;
}

/** What a fetch reports: the revision it got (commit sha, or the package URL without user info). */
export interface FetchedSource {
  revision: string;
}

/** Largest package download by default, bytes (config deploy.packageMaxMiB). */
export const MAX_PACKAGE_BYTES = 512 * 1024 * 1024;

/** Largest total size of a package's files once unpacked by default, bytes (config deploy.unpackedMaxMiB). */
export const MAX_UNPACKED_BYTES = 1024 * 1024 * 1024;

/** The package worker's compiled file (run by `node` inside the build sandbox). */
export const PACKAGE_WORKER = fileURLToPath(new URL('./build/package-worker.js', import.meta.url));

/**
 * Puts the component's source into the empty directory `dir`. Every command runs through
 * `run`, which confines it like a build (src/deploy/process/sandbox.ts): git and the package
 * worker see only what the project's user may see.
 * - code: `git clone --depth 1 --branch <ref>` (any ref: a sha falls back to a full clone and
 *   checkout); credentials go in an Authorization header through git's environment config
 *   (GIT_CONFIG_KEY_0 = http.extraHeader), never in the URL, the command line or the logs;
 *   GIT_TERMINAL_PROMPT=0 so git never waits for input.
 * - package: the package worker (build/package-worker.ts) downloads (http/https, streamed, at
 *   most maxPackageBytes) or copies (file://) and unpacks (.zip, .tar.gz/.tgz: at most
 *   maxUnpackedBytes, a single top-level folder stripped; .jar/.war kept as is); user info
 *   of the URL becomes a Basic Authorization header in the worker's environment.
 * @throws BuildError with a clear reason (unreachable, bad ref, unsupported archive, image)
 */
export async function fetchSource(source: SourceSpec, dir: string, options: { env: Record<string, string>; run: Runner; credentials?: GitCredentials; log(line: string): void; maxPackageBytes?: number; maxUnpackedBytes?: number }): Promise<FetchedSource> {
  if (source.kind === 'image') throw new BuildError('source kind image runs on the container runtime (runtime stack Docker)');
  if (source.kind === 'code') {
    const url = source.repo_url || source.url;
    if (!url) throw new BuildError('source.repo_url (or source.url) is required for kind code');
    const ref = source.repo_ref || '';
    if (ref.startsWith('-')) throw new BuildError(`repo_ref '${ref}' is not a branch, tag or commit (it starts with '-')`);
    const env: Record<string, string> = { ...options.env, GIT_TERMINAL_PROMPT: '0' };
    if (options.credentials) {
      // Through git's environment config, not `-c` on the command line: argv is readable by
      // every local user (/proc) and a failed command is quoted in the job's messages.
      const basic = Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64');
      Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` });
    }
    options.log(`git clone ${redact(url)}${ref ? ` at ${ref}` : ''}`);
    try {
      await options.run('git', ['clone', '--quiet', '--depth', '1', ...(ref ? ['--branch', ref] : []), '--', url, dir], { env });
    } catch (err) {
      if (!ref || !(err instanceof BuildError)) throw err;
      // Not a branch or tag: maybe a commit sha. Clone everything and check it out.
      for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
      await options.run('git', ['clone', '--quiet', '--', url, dir], { env });
      await options.run('git', ['checkout', '--quiet', '--detach', ref], { env });
    }
    const revision = headOf(join(dir, '.git')) ?? (await options.run('git', ['rev-parse', 'HEAD'], { env, captureStdout: true })).stdout.trim();
    rmSync(join(dir, '.git'), { recursive: true, force: true });
    return { revision };
  }
  const url = source.url;
  if (!url) throw new BuildError('source.url is required for kind package');
  const { revision } = await runPackageWorker({ url, dir, maxPackageBytes: options.maxPackageBytes ?? MAX_PACKAGE_BYTES, maxUnpackedBytes: options.maxUnpackedBytes ?? MAX_UNPACKED_BYTES }, options);
  return { revision };
}

/**
 * The commit a fresh clone's HEAD names, read from its files (one confined `git rev-parse`
 * less per build): `HEAD` holding a sha, or `ref: <name>` resolved through the loose ref or
 * `packed-refs`. Regular files only (no symbolic link is followed).
 * @returns the 40- or 64-hex sha; undefined when it cannot be read so (ask git instead)
 */
function headOf(gitDir: string): string | undefined {
  const read = (path: string): string | undefined => {
    try {
      return lstatSync(path).isFile() ? readFileSync(path, 'utf8') : undefined;
    } catch {
      return undefined;
    }
  };
  const sha = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
  const head = read(join(gitDir, 'HEAD'))?.trim();
  if (!head) return undefined;
  if (sha.test(head)) return head;
  const ref = /^ref: (refs\/[\w./-]+)$/.exec(head)?.[1];
  if (!ref || ref.split('/').includes('..')) return undefined;
  const loose = read(join(gitDir, ref))?.trim();
  if (loose && sha.test(loose)) return loose;
  for (const line of (read(join(gitDir, 'packed-refs')) ?? '').split('\n')) {
    const [id, name] = line.split(' ');
    if (name === ref && id && sha.test(id)) return id;
  }
  return undefined;
}

/** What the package worker is asked (build/package-worker.ts Input), the URL with its user info. */
export interface PackageRequest {
  url: string;
  dir: string;
  maxPackageBytes: number;
  maxUnpackedBytes: number;
  /** Tools: only archives, and the download must match this checksum (hex) or the first checksum file of `urls` that exists. */
  checksum?: { expected?: string; urls?: string[] };
}

/**
 * Runs the package worker through `run` (confined like a build): downloads or copies
 * `request.url` into `request.dir` and unpacks it; user info of the URL goes as a Basic
 * Authorization header in the worker's environment, never in argv or messages.
 * @returns the URL fetched (without user info) and, when a checksum was asked, `algorithm:hex` of the download
 * @throws BuildError with the worker's reason
 */
export async function runPackageWorker(request: PackageRequest, options: { env: Record<string, string>; run: Runner; log(line: string): void }): Promise<{ revision: string; digest?: string }> {
  const env: Record<string, string> = { ...options.env };
  try {
    const u = new URL(request.url);
    if (u.username || u.password) env.PACKAGE_AUTHORIZATION = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  } catch {
    throw new BuildError(`package URLs must be http://, https:// or file://, not ${redact(request.url)}`);
  }
  const bare = redact(request.url);
  const input = JSON.stringify({ ...request, url: bare, ...(request.checksum?.urls ? { checksum: { ...request.checksum, urls: request.checksum.urls.map(redact) } } : {}) });
  let stdout = '';
  let failed: unknown;
  try {
    ({ stdout } = await options.run(process.execPath, ['--max-old-space-size=256', PACKAGE_WORKER, input], { env, captureStdout: true }));
  } catch (err) {
    failed = err;
    if (err instanceof BuildError) stdout = err.stdout;
  }
  let revision = '';
  let digest: string | undefined;
  let error = '';
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const msg = JSON.parse(line) as { log?: string; error?: string; revision?: string; digest?: string };
      if (msg.log) options.log(msg.log);
      if (msg.error) error = msg.error;
      if (msg.revision) revision = msg.revision;
      if (msg.digest) digest = msg.digest;
    } catch {
      // a partial line at the 64 KiB cap
    }
  }
  if (error) throw new BuildError(error);
  if (failed) throw failed;
  return { revision: revision || bare, ...(digest ? { digest } : {}) };
}
