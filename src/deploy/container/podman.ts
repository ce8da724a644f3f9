import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tailLines } from '../../core/process/supervisor.js';
import { parseImageReference } from './reference.js';
import { podmanPaths, writePodmanConfig, type PodmanEnv, type PodmanSetup } from './setup.js';

/**
 * A typed wrapper of the podman CLI (podman 4.3+, rootful or rootless, daemonless): every
 * call is one `podman` process started with execFile or spawn (never a shell) and the
 * environment of OpenStage's own setup (setup.ts); JSON output is parsed. Secrets (registry
 * passwords, environment values) never appear in an argument list: they go through private
 * files that are removed when the call returns.
 */

/** Why a podman call failed, when the caller may act on it. */
export type PodmanErrorKind = 'not-found' | 'name-in-use' | 'in-use' | 'missing-podman' | 'failed';

/** A podman call that failed: `message` names the command and quotes podman's error. */
export class PodmanError extends Error {
  constructor(
    message: string,
    readonly kind: PodmanErrorKind,
    /** podman's exit code; undefined when it could not run or was killed. */
    readonly exitCode?: number,
  ) {
    super(message);
    this.name = 'PodmanError';
  }
}

/** Registry credentials of a pull or push. */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/** A file or directory of the host mounted into a container. */
export interface ContainerMount {
  /** Absolute host path. */
  source: string;
  /** Absolute path inside the container. */
  target: string;
  readOnly: boolean;
}

/** Everything `run` needs to start one container. */
export interface ContainerSpec {
  /** Unique on this host (podman refuses a second container of the same name). */
  name: string;
  /** Image name or id; never pulled by `run` (`--pull never`). */
  image: string;
  /** Labels identifying the container (project, component, version, instance…). */
  labels: Record<string, string>;
  /** Environment of the container's process, on top of the image's. */
  env: Record<string, string>;
  mounts: ContainerMount[];
  /** Replaces the image's ENTRYPOINT when given. */
  entrypoint?: string[];
  /** Replaces the image's CMD when given. */
  command?: string[];
  /** Memory limit, bytes (`--memory`). */
  memoryBytes?: number;
  /** CPU limit, cores (`--cpus`, fractions allowed). */
  cpus?: number;
  /** Most processes and threads (`--pids-limit`); podman's default (2048) when absent. */
  pidsLimit?: number;
  /**
   * User namespace: container uid/gid 0..size-1 are host ids hostId..hostId+size-1, so the
   * container's root is not the host's. Absent: the host's ids (rootless podman maps them to
   * the calling user anyway).
   */
  userns?: { hostId: number; size: number };
  /** Seconds `podman stop` waits after the stop signal before SIGKILL. */
  stopGraceSeconds: number;
}

/** A container as `podman ps` lists it. Times are epoch milliseconds. */
export interface ContainerSummary {
  id: string;
  name: string;
  /** created | running | paused | exited | stopping | removing | unknown… */
  state: string;
  running: boolean;
  labels: Record<string, string>;
  image: string;
  imageId: string;
  /** Exit code of the last run (meaningful once exited). */
  exitCode: number;
  /** Pid of the container's first process while it runs, else 0. */
  pid: number;
  createdAtMs: number;
  startedAtMs?: number;
  exitedAtMs?: number;
}

/** A container as `podman container inspect` shows it. */
export interface ContainerInfo extends ContainerSummary {
  /** True when the kernel's OOM killer ended its last run. */
  oomKilled: boolean;
  /** podman's own restarts (OpenStage uses none: it restarts replicas itself). */
  restartCount: number;
  /** The error podman recorded when it could not start the container, else ''. */
  error: string;
  /** The environment the container runs with, `NAME=value` (the image's and the spec's). */
  env: string[];
  mounts: { source: string; target: string; readOnly: boolean }[];
  /** Resource limits as applied: bytes, cores (0 = none). */
  memoryBytes: number;
  cpus: number;
  /** User namespace mapping (`[containerId, hostId, size]` triples), empty when none. */
  uidMap: [number, number, number][];
  noNewPrivileges: boolean;
  networkMode: string;
}

/** An image of the local store. */
export interface ImageInfo {
  /** Full image id (64 hex, no `sha256:`). */
  id: string;
  /** Its names (`registry/repository:tag`); empty for a dangling image. */
  names: string[];
  /** Manifest digest `sha256:…`. */
  digest: string;
  sizeBytes: number;
}

/** One container event (`podman events`). */
export interface ContainerEvent {
  /** create, init, start, died, cleanup, stop, kill, remove… */
  status: string;
  id: string;
  name: string;
  labels: Record<string, string>;
  /** Exit code of a `died` event. */
  exitCode?: number;
  /** Epoch milliseconds. */
  atMs: number;
}

/** A running `podman events` follower. */
export interface EventStream {
  /** Stops following (kills the podman process). */
  close(): void;
  /** Resolves when the follower ended (closed, or podman exited: then `exitCode` is set). */
  readonly ended: Promise<{ exitCode: number | null }>;
}

/** Options of a build. */
export interface BuildOptions {
  /** Directory sent as the build context. */
  contextDir: string;
  /** Dockerfile path relative to `contextDir` (default `Dockerfile`); must stay inside it. */
  dockerfile?: string;
  /** Name given to the result, e.g. `localhost/app/component:1.0.0`. */
  tag: string;
  /** Receives podman's output (appended). */
  logFile: string;
  signal: AbortSignal;
  labels?: Record<string, string>;
  /** `--build-arg` values (visible to the build, never in an argument list of ours). */
  buildArgs?: Record<string, string>;
  /** Memory limit of each RUN step, bytes. */
  memoryBytes?: number;
  /** Credentials for the registry of the FROM images, keyed by registry `host[:port]`. */
  credentials?: Record<string, RegistryCredentials>;
}

/** Lines of podman's output quoted in a failure. */
const TAIL_LINES = 20;

/** How `podman stop`/`rm` report a container that is not there. */
const NOT_FOUND = /no such container|no container with (name or ID|ID or name)|image not known|no such image|not found in local storage|image .* not known/i;

/** Bytes of a container log read to find its last lines. */
const LOG_READ_BYTES = 1024 * 1024;

/**
 * The last `tail` lines of a k8s-file log. A record cut by the 1 MiB window is dropped; a
 * partial record at the very end (output without a final newline yet) is shown as a line.
 */
export async function readK8sFileLog(path: string, tail: number): Promise<string[]> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return [];
  }
  let text: string;
  let cut: boolean;
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, LOG_READ_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    text = buffer.toString('utf8');
    cut = length < size;
  } finally {
    await handle.close();
  }
  const records = text.split('\n');
  if (cut) records.shift();
  // A line is placed where its first record was written, even when its end comes later.
  const lines: string[] = [];
  const pending: Record<string, number> = {};
  for (const record of records) {
    const m = /^\S+ (stdout|stderr) ([FP])(?: (.*))?$/.exec(record);
    if (!m) continue;
    const stream = m[1]!;
    let at = pending[stream];
    if (at === undefined) {
      at = lines.length;
      lines.push('');
    }
    lines[at] += m[3] ?? '';
    if (m[2] === 'P') pending[stream] = at;
    else delete pending[stream];
  }
  const n = Math.floor(tail);
  return n > 0 ? lines.slice(-n) : [];
}

/** Parses podman's Go time (RFC 3339 with up to 9 fraction digits) to epoch ms; undefined for the zero time. */
function goTimeMs(s: string | undefined): number | undefined {
  if (!s || s.startsWith('0001-01-01')) return undefined;
  const ms = Date.parse(s.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isFinite(ms) ? ms : undefined;
}

/** Epoch seconds of `podman ps` (negative for "never") to ms. */
function unixMs(s: number | undefined): number | undefined {
  return typeof s === 'number' && s > 0 ? s * 1000 : undefined;
}

/** The last lines of a text, for messages. */
function lastLines(text: string, n = TAIL_LINES): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

/** An environment file for `--env-file`: one `NAME=value` per line, values verbatim. */
function envFile(env: Record<string, string>): string {
  let out = '';
  for (const [name, value] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) throw new PodmanError(`environment variable name '${name}' is not valid in a container`, 'failed');
    if (/[\r\n\0]/.test(value)) throw new PodmanError(`environment variable ${name} holds a line break, which a container's environment file cannot carry`, 'failed');
    out += `${name}=${value}\n`;
  }
  return out;
}

/** An auth.json for the given registries (podman `--authfile`). */
function authFile(credentials: Record<string, RegistryCredentials>): string {
  const auths: Record<string, { auth: string }> = {};
  for (const [registry, c] of Object.entries(credentials)) auths[registry] = { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') };
  return JSON.stringify({ auths });
}

/** Kills every process in the cgroup `path` (relative to each hierarchy's root) and removes it, deepest first. */
function destroyCgroup(path: string): void {
  const roots: string[] = [];
  try {
    if (existsSync('/sys/fs/cgroup/cgroup.controllers')) roots.push('/sys/fs/cgroup');
    else for (const name of readdirSync('/sys/fs/cgroup')) roots.push(join('/sys/fs/cgroup', name));
  } catch {
    return;
  }
  const dirs: string[] = [];
  const walk = (dir: string): void => {
    dirs.push(dir);
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(join(dir, e.name));
  };
  for (const root of roots) if (existsSync(join(root, path))) walk(join(root, path));
  for (const dir of dirs) {
    let procs: string[] = [];
    try {
      procs = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
    } catch {
      continue;
    }
    for (const pid of procs) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  for (const dir of dirs.reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      // busy for a moment or removed by runc: a later build's removal or a reboot clears it
    }
  }
}

/**
 * podman, driven through its CLI with OpenStage's own configuration.
 * Every method may throw PodmanError (`missing-podman` when the executable is absent).
 */
export class Podman {
  private envCache?: Record<string, string>;
  /** Builds running now: leftovers of an aborted one are swept when none runs. */
  private buildsRunning = 0;
  private sweepPending = false;

  constructor(
    private readonly options: {
      /** podman executable (default `podman`, looked up in PATH). */
      command?: string;
      /** OpenStage's configuration, written (writePodmanConfig) before the first podman call. */
      setup: PodmanSetup;
      /** PATH podman and its helpers (conmon, runc, netavark) are found in. */
      path: string;
      /** Longest a control call (inspect, start, rm, logs…) may take, ms; default 60 s. */
      timeoutMs?: number;
    },
  ) {}

  /** The environment of every podman process; the configuration is written on the first call. */
  environment(): PodmanEnv {
    return this.env as unknown as PodmanEnv;
  }

  /** Whether podman's store exists (something used podman here before, in this process or an earlier one). */
  storeExists(): boolean {
    return existsSync(podmanPaths(this.options.setup).storage);
  }

  private get env(): Record<string, string> {
    if (!this.envCache) {
      const podmanEnv = writePodmanConfig(this.options.setup);
      mkdirSync(this.scratchDir, { recursive: true, mode: 0o700 });
      this.envCache = { ...podmanEnv, PATH: this.options.path, HOME: podmanEnv.TMPDIR, LANG: 'C.UTF-8' };
    }
    return this.envCache;
  }

  /** Private files of single calls (auth files, env files), 0700. */
  private get scratchDir(): string {
    return join(podmanPaths(this.options.setup).tmp, 'private');
  }

  private get command(): string {
    return this.options.command ?? 'podman';
  }

  /** A private file holding `content` for the duration of `use`. */
  private async withPrivateFile<T>(content: string, use: (path: string) => Promise<T>): Promise<T> {
    void this.env; // the scratch directory exists once the configuration is written
    const path = join(this.scratchDir, randomUUID());
    writeFileSync(path, content, { mode: 0o600 });
    try {
      return await use(path);
    } finally {
      rmSync(path, { force: true });
    }
  }

  /**
   * Runs `podman <args>` and returns its output.
   * @param okExits exit codes besides 0 that are not failures
   * @throws PodmanError with the kind read from podman's message; the signal's reason when aborted
   */
  private exec(args: string[], opts: { signal?: AbortSignal; timeoutMs?: number; okExits?: number[] | 'any' } = {}): Promise<{ stdout: string; stderr: string; code: number }> {
    const timeout = opts.timeoutMs ?? this.options.timeoutMs ?? 60_000;
    return new Promise((resolvePromise, reject) => {
      execFile(this.command, args, { env: this.env, maxBuffer: 64 * 1024 * 1024, timeout, killSignal: 'SIGKILL', ...(opts.signal ? { signal: opts.signal } : {}) }, (err, stdout, stderr) => {
        if (!err) return resolvePromise({ stdout, stderr, code: 0 });
        const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean };
        if (opts.signal?.aborted) return reject(opts.signal.reason instanceof Error ? opts.signal.reason : new Error(String(opts.signal.reason)));
        if (e.code === 'ENOENT') return reject(new PodmanError(`podman is not installed (no '${this.command}' in PATH): install it with 'apt-get install podman runc'`, 'missing-podman'));
        if (typeof e.code !== 'number') return reject(new PodmanError(`'podman ${args[0]}' ${e.killed ? `did not finish within ${Math.round(timeout / 1000)} s` : `failed: ${e.message}`}`, 'failed'));
        if (opts.okExits === 'any' || opts.okExits?.includes(e.code)) return resolvePromise({ stdout, stderr, code: e.code });
        reject(this.failure(args, e.code, stderr));
      });
    });
  }

  /** The PodmanError for a failed call. */
  private failure(args: string[], code: number, stderr: string): PodmanError {
    const text = lastLines(stderr) || `exit code ${code}`;
    const kind: PodmanErrorKind = NOT_FOUND.test(text) ? 'not-found' : /already in use/i.test(text) ? 'name-in-use' : /in use by|being used|image is in use/i.test(text) ? 'in-use' : 'failed';
    const verb = args.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ');
    return new PodmanError(`'podman ${verb}' failed (exit code ${code}): ${text}`, kind, code);
  }

  /**
   * Runs a long podman command (build, pull, push) with its output appended to `logFile`.
   * @param onAbort called once when `signal` aborts, before podman is killed
   * @throws PodmanError with the command, exit code and the log's last lines; the signal's reason when aborted
   */
  private async spawnLogged(args: string[], logFile: string, signal: AbortSignal, opts: { onAbort?: () => void; extraEnv?: Record<string, string> } = {}): Promise<void> {
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    let exit: { code: number | null; signal: NodeJS.Signals | null };
    try {
      child = spawn(this.command, args, { env: { ...opts.extraEnv, ...this.env }, stdio: ['ignore', fd, fd] });
      const abort = (): void => {
        opts.onAbort?.();
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      };
      if (signal.aborted) abort();
      else signal.addEventListener('abort', abort, { once: true });
      try {
        exit = await new Promise((resolvePromise, reject) => {
          child.once('error', (err: NodeJS.ErrnoException) =>
            reject(err.code === 'ENOENT' ? new PodmanError(`podman is not installed (no '${this.command}' in PATH): install it with 'apt-get install podman runc'`, 'missing-podman') : new PodmanError(`cannot run podman: ${err.message}`, 'failed')),
          );
          child.once('exit', (code, sig) => resolvePromise({ code, signal: sig }));
        });
      } finally {
        signal.removeEventListener('abort', abort);
      }
    } finally {
      closeSync(fd);
    }
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
    if (exit.code === 0) return;
    const tail = (await tailLines(logFile, TAIL_LINES)).join('\n');
    const how = exit.code !== null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
    throw new PodmanError(`'podman ${args[0]}' failed with ${how}${tail ? `:\n${tail}` : ''}`, NOT_FOUND.test(tail) ? 'not-found' : 'failed', exit.code ?? undefined);
  }

  /**
   * podman's version (`podman version`), e.g. `4.3.1`.
   * @throws PodmanError `missing-podman` when podman is not installed
   */
  async version(): Promise<string> {
    const { stdout } = await this.exec(['version', '--format', 'json']);
    return (JSON.parse(stdout) as { Client?: { Version?: string } }).Client?.Version ?? 'unknown';
  }

  /**
   * Builds an image from a Dockerfile (`podman build`): no layer cache (an intermediate layer
   * of one project's build is never reused by another's), RUN steps in their own cgroup so that
   * an abort kills them, FROM images pulled only when missing, with `credentials` when given
   * (never the host's own registry logins).
   * @returns the image id (64 hex)
   * @throws PodmanError with the log's last lines; Error when the Dockerfile is outside the
   *   context; the signal's reason when aborted (the build's processes are killed)
   */
  async build(opts: BuildOptions): Promise<string> {
    const dockerfile = resolve(opts.contextDir, opts.dockerfile ?? 'Dockerfile');
    const rel = relative(resolve(opts.contextDir), dockerfile);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new PodmanError(`Dockerfile path '${opts.dockerfile}' leaves the build context`, 'failed');
    if (!existsSync(dockerfile)) throw new PodmanError(`no Dockerfile at '${opts.dockerfile ?? 'Dockerfile'}' in the source`, 'failed');
    const iidFile = join(this.scratchDir, `${randomUUID()}.iid`);
    const cgroup = `/openstage-build/${randomUUID()}`;
    const asRoot = process.getuid?.() === 0;
    const args = ['build', '--layers=false', '--pull=missing', '--force-rm', '--file', dockerfile, '--tag', opts.tag, '--iidfile', iidFile];
    if (asRoot) args.push('--cgroup-parent', cgroup);
    for (const [k, v] of Object.entries(opts.labels ?? {})) args.push('--label', `${k}=${v}`);
    if (opts.memoryBytes) args.push('--memory', String(opts.memoryBytes));
    // Build arguments without a value are taken from podman's environment: the values stay
    // out of the argument list.
    const argEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.buildArgs ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || k in this.env) throw new PodmanError(`build argument name '${k}' is not valid or reserved`, 'failed');
      argEnv[k] = v;
      args.push('--build-arg', k);
    }
    this.buildsRunning += 1;
    try {
      return await this.withPrivateFile(authFile(opts.credentials ?? {}), async (auth) => {
        args.push('--authfile', auth, opts.contextDir);
        const onAbort = (): void => {
          this.sweepPending = true;
          if (asRoot) destroyCgroup(cgroup);
        };
        await this.spawnLogged(args, opts.logFile, opts.signal, { onAbort, extraEnv: argEnv });
        return readFileSync(iidFile, 'utf8').trim().replace(/^sha256:/, '');
      });
    } finally {
      rmSync(iidFile, { force: true });
      if (asRoot) destroyCgroup(cgroup);
      this.buildsRunning -= 1;
      if (this.sweepPending && this.buildsRunning === 0) {
        this.sweepPending = false;
        await this.sweepBuildContainers().catch(() => undefined);
      }
    }
  }

  /**
   * Removes the working containers interrupted builds left in storage (`podman ps --external`:
   * containers podman did not create). Only safe while no build runs: called after an aborted
   * build once none runs, and by the runtime at start.
   */
  async sweepBuildContainers(): Promise<number> {
    const { stdout } = await this.exec(['ps', '--all', '--external', '--format', 'json']);
    const ids = (JSON.parse(stdout || '[]') as { Id: string; State?: string; Status?: string }[]).filter((c) => (c.State ?? c.Status ?? '').toLowerCase().includes('storage')).map((c) => c.Id);
    if (ids.length > 0) await this.exec(['rm', '--force', '--ignore', ...ids]);
    return ids.length;
  }

  /**
   * Pulls an image (`podman pull`) with `credentials` for its registry when given; with none,
   * anonymously (never with the host's own registry logins).
   * @returns the image id (64 hex) and its manifest digest (`sha256:…`)
   * @throws PodmanError (`not-found` when the registry has no such image; the message quotes
   *   podman, e.g. `unauthorized`); Error when `reference` is not a valid image reference;
   *   the signal's reason when aborted
   */
  async pull(opts: { reference: string; credentials?: RegistryCredentials; signal: AbortSignal; logFile: string }): Promise<{ id: string; digest: string }> {
    const ref = parseImageReference(opts.reference);
    if (!ref) throw new PodmanError(`'${opts.reference}' is not a valid image reference`, 'failed');
    const creds = opts.credentials ? { [ref.registry]: opts.credentials } : {};
    await this.withPrivateFile(authFile(creds), (auth) => this.spawnLogged(['pull', '--authfile', auth, opts.reference], opts.logFile, opts.signal));
    const image = await this.inspectImage(opts.reference);
    if (!image) throw new PodmanError(`'podman pull ${opts.reference}' succeeded but the image is not in the store`, 'failed');
    return { id: image.id, digest: image.digest };
  }

  /**
   * Pushes a local image to `destination` (`podman push`), with `credentials` for its registry.
   * @throws PodmanError; the signal's reason when aborted
   */
  async push(opts: { image: string; destination: string; credentials?: RegistryCredentials; signal: AbortSignal; logFile: string }): Promise<void> {
    const ref = parseImageReference(opts.destination);
    if (!ref) throw new PodmanError(`'${opts.destination}' is not a valid image reference`, 'failed');
    const creds = opts.credentials ? { [ref.registry]: opts.credentials } : {};
    await this.withPrivateFile(authFile(creds), (auth) => this.spawnLogged(['push', '--authfile', auth, opts.image, opts.destination], opts.logFile, opts.signal));
  }

  /** Gives an image one more name (`podman tag`). @throws PodmanError `not-found` when `image` is unknown */
  async tag(image: string, name: string): Promise<void> {
    await this.exec(['tag', image, name]);
  }

  /**
   * One image of the local store, by name or id.
   * @returns undefined when there is none
   */
  async inspectImage(image: string): Promise<ImageInfo | undefined> {
    const { stdout, code } = await this.exec(['image', 'inspect', '--format', 'json', image], { okExits: [125] });
    if (code !== 0) return undefined;
    const [img] = JSON.parse(stdout || '[]') as { Id: string; RepoTags?: string[] | null; Digest?: string; Size?: number }[];
    if (!img) return undefined;
    return { id: img.Id, names: img.RepoTags ?? [], digest: img.Digest ?? '', sizeBytes: img.Size ?? 0 };
  }

  /** Every image of the local store (dangling ones included), with the number of containers using each. */
  async listImages(): Promise<(ImageInfo & { containers: number })[]> {
    const { stdout } = await this.exec(['images', '--all', '--format', 'json']);
    return (JSON.parse(stdout || '[]') as { Id: string; Names?: string[] | null; Digest?: string; Size?: number; Containers?: number }[]).map((i) => ({
      id: i.Id,
      names: i.Names ?? [],
      digest: i.Digest ?? '',
      sizeBytes: i.Size ?? 0,
      containers: i.Containers ?? 0,
    }));
  }

  /**
   * Removes one name of an image (`podman rmi <name>`); the image itself goes with its last
   * name, unless a container (running or not) still uses it, which podman refuses.
   * @returns `removed`; `in-use` when a container uses it (nothing changed); `absent` when
   *   there is no such image
   */
  async removeImage(name: string): Promise<'removed' | 'in-use' | 'absent'> {
    const { code, stderr } = await this.exec(['rmi', name], { okExits: [1, 2] });
    if (code === 0) return 'removed';
    if (code === 2) return 'in-use';
    if (NOT_FOUND.test(stderr)) return 'absent';
    throw this.failure(['rmi', name], code, stderr);
  }

  /**
   * Creates and starts a container (`podman run --detach`) on the host's network (a process
   * listening on `PORT` answers on the host's loopback), with no-new-privileges, the spec's
   * limits, labels, mounts and environment (through a private `--env-file`, never argv), its
   * log in k8s-file format (`logs`). The image must be local (`--pull never`). When the
   * container cannot start, it is removed again.
   * @returns the container id
   * @throws PodmanError `name-in-use` when a container of that name exists (nothing started),
   *   `not-found` when the image is not local, `failed` with podman's message otherwise (a bad
   *   entrypoint: "executable file not found")
   */
  async run(spec: ContainerSpec): Promise<string> {
    const args = ['run', '--detach', '--name', spec.name, '--pull', 'never', '--network', 'host', '--security-opt', 'no-new-privileges', '--restart', 'no', '--stop-timeout', String(Math.max(0, Math.round(spec.stopGraceSeconds)))];
    for (const [k, v] of Object.entries(spec.labels)) args.push('--label', `${k}=${v}`);
    for (const m of spec.mounts) {
      if (!isAbsolute(m.source) || !isAbsolute(m.target) || m.source.includes(',') || m.target.includes(',') || m.source.includes(':') || m.target.includes(':')) {
        throw new PodmanError(`mount '${m.source}' → '${m.target}' must be two absolute paths without ',' or ':'`, 'failed');
      }
      args.push('--mount', `type=bind,source=${m.source},target=${m.target}${m.readOnly ? ',readonly=true' : ''}`);
    }
    if (spec.memoryBytes) args.push('--memory', String(Math.floor(spec.memoryBytes)));
    if (spec.cpus) args.push('--cpus', String(spec.cpus));
    if (spec.pidsLimit) args.push('--pids-limit', String(spec.pidsLimit));
    if (spec.userns) args.push('--uidmap', `0:${spec.userns.hostId}:${spec.userns.size}`, '--gidmap', `0:${spec.userns.hostId}:${spec.userns.size}`);
    if (spec.entrypoint) args.push('--entrypoint', JSON.stringify(spec.entrypoint));
    const env = envFile(spec.env);
    return this.withPrivateFile(env, async (file) => {
      args.push('--env-file', file, spec.image, ...(spec.command ?? []));
      try {
        const { stdout } = await this.exec(args);
        return stdout.trim().split('\n').pop()!;
      } catch (err) {
        if (err instanceof PodmanError && err.kind !== 'name-in-use') await this.remove(spec.name).catch(() => undefined);
        throw err;
      }
    });
  }

  /**
   * Starts a stopped container again (`podman start`), keeping its id, name and log.
   * @throws PodmanError `not-found` when it is gone; `failed` when it cannot start
   */
  async start(container: string): Promise<void> {
    await this.exec(['start', container]);
  }

  /**
   * One container (`podman container inspect`), by name or id.
   * @returns undefined when there is none
   */
  async inspect(container: string): Promise<ContainerInfo | undefined> {
    const { stdout, code } = await this.exec(['container', 'inspect', '--format', 'json', container], { okExits: [125] });
    if (code !== 0) return undefined;
    const [c] = JSON.parse(stdout || '[]') as RawInspect[];
    return c ? fromInspect(c) : undefined;
  }

  /**
   * Containers carrying every label of `labels` (`podman ps --all --filter label=…`), running
   * or not.
   */
  async list(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const args = ['ps', '--all', '--format', 'json'];
    for (const [k, v] of Object.entries(labels)) args.push('--filter', `label=${k}=${v}`);
    const { stdout } = await this.exec(args);
    const rows = JSON.parse(stdout || '[]') as RawPs[];
    // podman 4.3 ANDs label filters; checked again here so that an older one that ORs them
    // never hands back another component's containers.
    return rows.map(fromPs).filter((c) => Object.entries(labels).every(([k, v]) => c.labels[k] === v));
  }

  /**
   * The last `tail` lines of a container's output, stdout and stderr in the order they were
   * written, read from its k8s-file log (`<time> <stream> <F|P> <text>` records; a `P` record
   * is continued by the stream's next one). Only the last 1 MiB of the log is read.
   * @returns [] when the container is gone
   */
  async logs(container: string, tail: number): Promise<string[]> {
    const { stdout, code } = await this.exec(['container', 'inspect', '--format', '{{.HostConfig.LogConfig.Path}}', container], { okExits: [125] });
    const path = stdout.trim();
    if (code !== 0 || path === '') return [];
    return readK8sFileLog(path, tail);
  }

  /**
   * Runs a command in a running container (`podman exec`), as the container's user, with its
   * environment; for command probes.
   * @returns the command's exit code (125–127: podman could not run it) and its output
   *   (stdout, then stderr); exit code -1 with the reason when it did not end within `timeoutMs`
   */
  async execIn(container: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    try {
      const { stdout, stderr, code } = await this.exec(['exec', container, ...command], { timeoutMs, okExits: 'any' });
      return { exitCode: code, output: `${stdout}${stderr}` };
    } catch (err) {
      return { exitCode: -1, output: (err as Error).message };
    }
  }

  /**
   * Stops a container (`podman stop -t <graceSeconds>`): its stop signal, then SIGKILL after
   * the grace. A container that is not running or not there is left as it is.
   * @throws PodmanError when podman fails otherwise
   */
  async stop(container: string, graceSeconds: number): Promise<void> {
    const grace = Math.max(0, Math.round(graceSeconds));
    await this.exec(['stop', '--ignore', '--time', String(grace), container], { timeoutMs: (grace + 60) * 1000 });
  }

  /**
   * Sends a signal to a running container's first process (`podman kill`).
   * @returns false when the container is not running or not there
   */
  async kill(container: string, signal = 'SIGKILL'): Promise<boolean> {
    const { code, stderr } = await this.exec(['kill', '--signal', signal, container], { okExits: [125] });
    if (code === 0) return true;
    if (NOT_FOUND.test(stderr) || /not running|can only kill running/i.test(stderr)) return false;
    throw this.failure(['kill'], code, stderr);
  }

  /**
   * Removes a container, killing it first if it runs (`podman rm --force`); a container that
   * is not there is fine.
   */
  async remove(container: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.exec(['rm', '--force', '--ignore', '--time', '0', container]);
        return;
      } catch (err) {
        // The clean-up podman starts when a container ends may still hold its /dev/shm mount
        // ("device or resource busy"): it lets go within moments.
        if (!(err instanceof PodmanError && /resource busy/.test(err.message)) || attempt >= 10) throw err;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  /**
   * Follows container events (`podman events`) for containers carrying every label of
   * `labels`, calling `onEvent` per event in order: from `sinceMs` (epoch ms) on when given,
   * else from about now (the follower starts within a moment; callers that must miss nothing
   * pass a time before the one they listed the containers at).
   */
  events(labels: Record<string, string>, onEvent: (event: ContainerEvent) => void, sinceMs?: number): EventStream {
    const args = ['events', '--format', 'json', '--filter', 'type=container'];
    if (sinceMs !== undefined) args.push('--since', new Date(sinceMs).toISOString());
    for (const [k, v] of Object.entries(labels)) args.push('--filter', `label=${k}=${v}`);
    const child = spawn(this.command, args, { env: this.env, stdio: ['ignore', 'pipe', 'ignore'] });
    const ended = new Promise<{ exitCode: number | null }>((resolvePromise) => {
      child.once('error', () => resolvePromise({ exitCode: null }));
      child.once('exit', (code) => resolvePromise({ exitCode: code }));
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let raw: { ID?: string; Name?: string; Status?: string; Attributes?: Record<string, string>; ContainerExitCode?: number; Time?: string };
      try {
        raw = JSON.parse(line) as typeof raw;
      } catch {
        return;
      }
      const attributes = raw.Attributes ?? {};
      if (!Object.entries(labels).every(([k, v]) => attributes[k] === v)) return;
      onEvent({
        status: raw.Status ?? '',
        id: raw.ID ?? '',
        name: raw.Name ?? '',
        labels: attributes,
        ...(raw.Status === 'died' ? { exitCode: raw.ContainerExitCode ?? 0 } : {}),
        atMs: goTimeMs(raw.Time) ?? Date.now(),
      });
    });
    return {
      close: () => {
        child.kill('SIGKILL');
      },
      ended,
    };
  }
}

interface RawPs {
  Id: string;
  Names?: string[];
  State?: string;
  Labels?: Record<string, string> | null;
  Image?: string;
  ImageID?: string;
  ExitCode?: number;
  Pid?: number;
  Created?: number;
  StartedAt?: number;
  ExitedAt?: number;
}

function fromPs(r: RawPs): ContainerSummary {
  const startedAtMs = unixMs(r.StartedAt);
  const exitedAtMs = unixMs(r.ExitedAt);
  return {
    id: r.Id,
    name: r.Names?.[0] ?? '',
    state: r.State ?? 'unknown',
    running: r.State === 'running',
    labels: r.Labels ?? {},
    image: r.Image ?? '',
    imageId: r.ImageID ?? '',
    exitCode: r.ExitCode ?? 0,
    pid: r.Pid ?? 0,
    createdAtMs: unixMs(r.Created) ?? 0,
    ...(startedAtMs !== undefined ? { startedAtMs } : {}),
    ...(exitedAtMs !== undefined ? { exitedAtMs } : {}),
  };
}

interface RawInspect {
  Id: string;
  Name: string;
  Created?: string;
  Image?: string;
  ImageName?: string;
  RestartCount?: number;
  State: { Status: string; Running: boolean; OOMKilled?: boolean; Pid?: number; ExitCode?: number; Error?: string; StartedAt?: string; FinishedAt?: string };
  Config: { Labels?: Record<string, string> | null; Env?: string[] | null };
  Mounts?: { Source: string; Destination: string; RW: boolean }[] | null;
  HostConfig: { Memory?: number; NanoCpus?: number; CpuQuota?: number; CpuPeriod?: number; SecurityOpt?: string[] | null; NetworkMode?: string; IDMappings?: unknown };
  ProcessLabel?: string;
  IDMappings?: unknown;
}

function fromInspect(c: RawInspect): ContainerInfo {
  const startedAtMs = goTimeMs(c.State.StartedAt);
  const exitedAtMs = goTimeMs(c.State.FinishedAt);
  const quota = c.HostConfig.CpuQuota ?? 0;
  const period = c.HostConfig.CpuPeriod ?? 0;
  const cpus = c.HostConfig.NanoCpus ? c.HostConfig.NanoCpus / 1e9 : quota > 0 && period > 0 ? quota / period : 0;
  return {
    id: c.Id,
    name: c.Name,
    state: c.State.Status,
    running: c.State.Running,
    labels: c.Config.Labels ?? {},
    image: c.ImageName ?? '',
    imageId: c.Image ?? '',
    exitCode: c.State.ExitCode ?? 0,
    pid: c.State.Pid ?? 0,
    createdAtMs: goTimeMs(c.Created) ?? 0,
    ...(startedAtMs !== undefined ? { startedAtMs } : {}),
    ...(exitedAtMs !== undefined ? { exitedAtMs } : {}),
    oomKilled: c.State.OOMKilled ?? false,
    restartCount: c.RestartCount ?? 0,
    error: c.State.Error ?? '',
    env: c.Config.Env ?? [],
    mounts: (c.Mounts ?? []).map((m) => ({ source: m.Source, target: m.Destination, readOnly: !m.RW })),
    memoryBytes: c.HostConfig.Memory ?? 0,
    cpus,
    uidMap: parseUidMap(c.HostConfig.IDMappings ?? c.IDMappings),
    noNewPrivileges: (c.HostConfig.SecurityOpt ?? []).some((o) => /^no-new-privileges(:true|=true)?$/.test(o)),
    networkMode: c.HostConfig.NetworkMode ?? '',
  };
}

/** `IDMappings.UidMap` of inspect (`["0:200000:65536"]`) as triples. */
function parseUidMap(mappings: unknown): [number, number, number][] {
  const list = (mappings as { UidMap?: string[] | null } | undefined)?.UidMap ?? [];
  return list.flatMap((s) => {
    const parts = s.split(':').map(Number);
    return parts.length === 3 && parts.every(Number.isFinite) ? [[parts[0]!, parts[1]!, parts[2]!] as [number, number, number]] : [];
  });
}
