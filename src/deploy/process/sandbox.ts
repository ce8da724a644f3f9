import { execFileSync } from 'node:child_process';
import { existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { Clock } from '../../core/clock.js';
import { AlreadyExistsError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { Cgroups, enterScript, type CgroupLimits } from './cgroup.js';

/** How OpenStage confines builds and replicas (config `deploy.sandbox*`). */
export interface SandboxSettings {
  /** false only for development (`deploy.sandbox: off`): user code then runs as OpenStage's own user, unconfined. */
  enabled: boolean;
  /** Host paths a confined process must not see (the data directory, hosted git, the config file, home directories…). */
  hiddenPaths: string[];
  /** First uid given to a project (one uid per project, from here up). */
  uidBase: number;
  /** Most processes and threads of one replica or build at once. */
  pidsMax: number;
}

/** Where the per-project uids are kept (the deploy_sandbox_users table, through DeployService). */
export interface SandboxUids {
  /** The uid of a project, or undefined when none was allocated yet. */
  find(project: string): Promise<number | undefined>;
  /** Allocates the next uid (at least `base`). @throws AlreadyExistsError when another server took it meanwhile */
  insert(project: string, base: number, nowMs: number): Promise<number>;
}

/** The unprivileged user a project's builds and replicas run as. */
export interface SandboxUser {
  uid: number;
  gid: number;
  /** The name in the sandbox's /etc/passwd. */
  name: string;
}

/** One command to run confined. */
export interface ConfinedSpec {
  user: SandboxUser;
  hostname: string;
  /** Working directory (must be visible: writable or readOnly, or a host path not hidden). */
  cwd: string;
  /** Host directories bound read-write at the same path. */
  writable: string[];
  /** Host paths bound read-only at the same path (visible even under a hidden directory). */
  readOnly: string[];
  /** Host directory mounted at /tmp and /var/tmp (owned by the user). */
  tmp: string;
  /** HOME, and the home directory of the user's /etc/passwd entry. */
  home: string;
  /** A host directory of OpenStage's where the sandbox's /etc/passwd and /etc/group are written. */
  etcDir: string;
  /** Killed with OpenStage (builds, fetches, probes); replicas outlive it to be adopted. */
  dieWithParent: boolean;
  /** A control group with limits (only where the machine allows; else prlimit for memory). */
  cgroup?: { name: string; limits: CgroupLimits };
}

/** Why the sandbox cannot work on this machine. */
export class SandboxUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxUnavailableError';
  }
}

/** bubblewrap ran once in this process (Sandbox.create checks it only the first time). */
let bwrapWorks = false;

/** The install hint printed when bubblewrap is missing. */
export const BWRAP_INSTALL = 'install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora/RHEL: dnf install bubblewrap)';

/**
 * The confinement of builds and replicas (issue "confined builds and replicas"; DESIGN.md
 * "Deployments": process runtime). Every command runs under bubblewrap:
 * - its own mount, PID, IPC, UTS and cgroup namespaces (`/proc` shows only its own processes,
 *   so OpenStage's `/proc/<pid>/environ` is out of reach);
 * - the host's root read-only; the data directory, hosted git repositories, the config file,
 *   home directories and container storage hidden (empty tmpfs); writable only what the spec
 *   binds (its work dir, its artifact dir for a build, its project's build caches) and a
 *   private /tmp;
 * - as an unprivileged uid of its own project (one per project, allocated once in
 *   `deploy_sandbox_users`), never root, with no-new-privileges, no capabilities and no
 *   supplementary groups; an /etc/passwd entry gives it a name and HOME;
 * - in a control group with its memory, CPU and process limits where the machine allows
 *   (root with cgroup v1), else with `prlimit --as` for memory.
 * The network is the host's: replicas listen on loopback and reach the registry.
 * When OpenStage does not run as root, bubblewrap runs unprivileged in a user namespace as
 * OpenStage's own uid (no per-project uid, no cgroups).
 */
export class Sandbox {
  readonly asRoot = process.getuid?.() === 0;
  readonly cgroups: Cgroups | undefined;
  private readonly users = new Map<string, SandboxUser>();

  private constructor(
    readonly settings: SandboxSettings,
    private readonly deps: { uids: SandboxUids; clock: Clock; log: Logger },
  ) {
    this.cgroups = settings.enabled ? Cgroups.detect() : undefined;
  }

  /**
   * Checks that bubblewrap works here and makes the sandbox. With the sandbox off, logs a
   * warning (at every start).
   * @throws SandboxUnavailableError naming the install command when bwrap is missing or fails
   */
  static create(settings: SandboxSettings, deps: { uids: SandboxUids; clock: Clock; log: Logger }): Sandbox {
    if (!settings.enabled) {
      deps.log.warn('deploy.sandbox is off: builds and replicas run unconfined as OpenStage\'s own user and can read its data directory, secrets and environment (development only)');
      return new Sandbox(settings, deps);
    }
    try {
      // Once per process: every server of a process (tests start hundreds) shares the answer.
      if (!bwrapWorks) execFileSync('bwrap', ['--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--unshare-pid', '--', 'true'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
      bwrapWorks = true;
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
      if (e.code === 'ENOENT') throw new SandboxUnavailableError(`bubblewrap (bwrap) is not installed; it confines builds and replicas: ${BWRAP_INSTALL} (or set deploy.sandbox: off, for development only)`);
      throw new SandboxUnavailableError(`bubblewrap (bwrap) does not work here: ${e.stderr?.toString().trim() || e.message}; builds and replicas cannot be confined (set deploy.sandbox: off for development only)`);
    }
    const sandbox = new Sandbox(settings, deps);
    deps.log.info({ perProjectUsers: sandbox.asRoot, cgroups: sandbox.cgroups !== undefined }, 'builds and replicas run confined (bubblewrap)');
    return sandbox;
  }

  get enabled(): boolean {
    return this.settings.enabled;
  }

  /**
   * The user of a project's builds and replicas: its own unprivileged uid when OpenStage runs
   * as root (allocated on first use, stored), else OpenStage's own uid.
   */
  async userOf(project: string): Promise<SandboxUser> {
    const known = this.users.get(project);
    if (known) return known;
    let uid: number;
    if (!this.asRoot || !this.enabled) {
      uid = process.getuid?.() ?? 0;
    } else {
      uid = (await this.deps.uids.find(project)) ?? (await this.allocate(project));
    }
    const user: SandboxUser = { uid, gid: this.asRoot && this.enabled ? uid : (process.getgid?.() ?? 0), name: this.asRoot && this.enabled ? `os${uid}` : 'openstage' };
    this.users.set(project, user);
    return user;
  }

  private async allocate(project: string): Promise<number> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        return await this.deps.uids.insert(project, this.settings.uidBase, this.deps.clock.now());
      } catch (err) {
        if (!(err instanceof AlreadyExistsError)) throw err;
        const found = await this.deps.uids.find(project);
        if (found !== undefined) return found;
      }
    }
    throw new Error(`could not allocate a sandbox uid for project ${project}`);
  }

  /**
   * Creates a directory (and its missing parents) owned by `user`, mode 0700 — a place the
   * confined process may write. Parents created on the way belong to OpenStage.
   */
  ownedDir(path: string, user: SandboxUser): string {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    if (this.asRoot && this.enabled) lchownSync(path, user.uid, user.gid);
    return path;
  }

  /**
   * Gives a tree OpenStage wrote (a replica's config files, its Tomcat base) to `user`,
   * without following symbolic links.
   */
  chownTree(path: string, user: SandboxUser): void {
    if (!this.asRoot || !this.enabled) return;
    const walk = (p: string): void => {
      const st = lstatSync(p);
      lchownSync(p, user.uid, user.gid);
      if (st.isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
    };
    if (existsSync(path)) walk(path);
  }

  /**
   * The argv, environment and host working directory that run `command args` confined as
   * `spec` says. With the sandbox off: the command itself in `spec.cwd`.
   * @param env the whole environment of the command (nothing is inherited)
   */
  wrap(spec: ConfinedSpec, command: string, args: string[], env: Record<string, string>): { command: string; args: string[]; env: Record<string, string>; cwd: string } {
    const fullEnv = { ...env, HOME: spec.home, USER: spec.user.name, LOGNAME: spec.user.name, TMPDIR: '/tmp' };
    if (!this.enabled) return { command, args, env: { ...env, HOME: spec.home }, cwd: spec.cwd };
    const hidden = [...new Set(this.settings.hiddenPaths.filter((p) => existsSync(p)).map((p) => realpathSync(p)))].sort((a, b) => a.length - b.length);
    const argv: string[] = [...rootBinds(['/proc', '/dev', '/tmp', '/var/tmp', ...hidden]), '--dev', '/dev', '--proc', '/proc'];
    const synthetic: string[] = [];
    const made = new Set<string>();
    /** Mount points under a hidden (tmpfs) directory need their parents made, traversable. */
    const parents = (target: string): void => {
      const root = synthetic.filter((s) => target.startsWith(s + sep)).sort((a, b) => b.length - a.length)[0];
      if (!root) return;
      const chain: string[] = [];
      for (let d = dirname(target); d.length > root.length; d = dirname(d)) chain.unshift(d);
      for (const d of chain) {
        if (made.has(d)) continue;
        made.add(d);
        argv.push('--perms', '0711', '--dir', d);
      }
    };
    for (const p of hidden) {
      parents(p);
      if (statSync(p).isDirectory()) {
        argv.push('--tmpfs', p);
        synthetic.push(p);
      } else {
        argv.push('--ro-bind', '/dev/null', p);
      }
    }
    const tmp = resolve(spec.tmp);
    for (const target of ['/tmp', '/var/tmp']) {
      argv.push('--bind', tmp, target);
      synthetic.push(target);
    }
    for (const p of spec.readOnly.map((x) => resolve(x))) {
      if (!existsSync(p)) continue;
      parents(p);
      argv.push('--ro-bind', p, p);
    }
    for (const p of spec.writable.map((x) => resolve(x))) {
      parents(p);
      argv.push('--bind', p, p);
    }
    mkdirSync(spec.etcDir, { recursive: true, mode: 0o700 });
    const passwd = join(spec.etcDir, 'passwd');
    const group = join(spec.etcDir, 'group');
    writeFileSync(passwd, `${readFileSafe('/etc/passwd')}${spec.user.name}:x:${spec.user.uid}:${spec.user.gid}:OpenStage project:${spec.home}:/bin/sh\n`);
    writeFileSync(group, `${readFileSafe('/etc/group')}${spec.user.name}:x:${spec.user.gid}:\n`);
    argv.push('--ro-bind', passwd, '/etc/passwd', '--ro-bind', group, '/etc/group');
    argv.push('--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--hostname', spec.hostname.slice(0, 63) || 'openstage');
    if (spec.dieWithParent) argv.push('--die-with-parent');
    argv.push('--chdir', resolve(spec.cwd), '--');
    let inner = [command, ...args];
    const memory = spec.cgroup?.limits.memoryBytes;
    if (memory && !this.cgroups) inner = ['prlimit', `--as=${Math.floor(memory)}`, '--', ...inner];
    if (this.asRoot) {
      argv.push('setpriv', `--reuid=${spec.user.uid}`, `--regid=${spec.user.gid}`, '--clear-groups', '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all', '--', ...inner);
    } else {
      argv.push(...inner);
    }
    if (spec.cgroup && this.cgroups) {
      const dirs = this.cgroups.create(spec.cgroup.name, { pidsMax: this.settings.pidsMax, ...spec.cgroup.limits });
      const entered = enterScript(dirs, 'bwrap', argv);
      return { ...entered, env: fullEnv, cwd: '/' };
    }
    return { command: 'bwrap', args: argv, env: fullEnv, cwd: '/' };
  }

  /** Removes the control group of a confined command that has ended. */
  release(cgroupName: string): void {
    this.cgroups?.remove(cgroupName);
  }
}

/** Filesystems that come and go under a running system (container layers and their shm, FUSE, namespaces). */
function isVolatile(fstype: string, source: string): boolean {
  return fstype === 'overlay' || fstype.startsWith('fuse') || fstype === 'nsfs' || (fstype === 'tmpfs' && source === 'shm');
}

/** Mount points of OpenStage's mount namespace whose filesystem may vanish meanwhile. */
function volatileMounts(): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const point = left.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    const [fstype = '', source = ''] = right.split(' ');
    if (point && isVolatile(fstype, source)) out.push(point);
  }
  return out;
}

/**
 * bubblewrap arguments that give the sandbox the host's root read-only. `--ro-bind / /` binds
 * every mount below `/` too and then remounts each read-only: a container layer (podman's
 * overlay, its shm) unmounted meanwhile makes that fail ("Can't bind mount /oldroot/"). So
 * when such mounts exist, the root is rebuilt from the directories that hold none — each
 * directory on the way made with the host's mode, symbolic links recreated — and `skip`
 * (paths the sandbox mounts itself: /proc, /dev, /tmp, hidden paths) is left out.
 */
function rootBinds(skip: string[]): string[] {
  const volatile = volatileMounts();
  if (volatile.length === 0) return ['--ro-bind', '/', '/'];
  const under = (p: string, dir: string): boolean => dir === '/' ? p !== '/' : p.startsWith(dir + sep);
  const skipped = (p: string): boolean => skip.some((x) => p === x || under(p, x));
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (skipped(dir) || volatile.includes(dir)) return;
    if (!volatile.some((v) => under(v, dir))) {
      out.push('--ro-bind', dir, dir);
      return;
    }
    if (dir !== '/') out.push('--perms', (statSync(dir).mode & 0o7777).toString(8).padStart(4, '0'), '--dir', dir);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(dir, name);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isSymbolicLink()) out.push('--symlink', readlinkSync(p), p);
      else if (st.isDirectory()) walk(p);
      else if (!skipped(p)) out.push('--ro-bind', p, p);
    }
  };
  walk('/');
  return out;
}

function readFileSafe(path: string): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.endsWith('\n') || text === '' ? text : `${text}\n`;
  } catch {
    return '';
  }
}
