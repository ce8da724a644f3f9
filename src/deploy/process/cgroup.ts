import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Limits of one confined process tree (a replica or a build). */
export interface CgroupLimits {
  /** Hard memory limit, bytes (memory.limit_in_bytes); the tree is OOM-killed above it. */
  memoryBytes?: number;
  /** Memory the tree is guaranteed under pressure, bytes (memory.soft_limit_in_bytes). */
  requestMemoryBytes?: number;
  /** CPU time per period, in cores (cpu.cfs_quota_us / cpu.cfs_period_us). */
  cpuCores?: number;
  /** Relative CPU weight, in cores (cpu.shares = cores × 1024). */
  requestCpuCores?: number;
  /** Most processes and threads at once (pids.max). */
  pidsMax?: number;
}

const CONTROLLERS = ['memory', 'cpu', 'pids'] as const;
const PERIOD_US = 100_000;

/**
 * Control groups (v1, as on these hosts: cgroup v1 with a hybrid unified tree) for confined
 * process trees: one group per replica or build under `<controller>/<OpenStage's own
 * group>/openstage/<name>` in the memory, cpu and pids hierarchies. Needs root; `detect()`
 * says whether this machine allows it. Processes enter a group before the user's command
 * starts (enterScript), so nothing they fork escapes it.
 */
export class Cgroups {
  private constructor(private readonly bases: Record<(typeof CONTROLLERS)[number], string>) {}

  /**
   * The cgroup v1 hierarchies of this process, when each of memory, cpu and pids is mounted
   * and writable; undefined otherwise (not root, cgroup v2 only, read-only /sys/fs/cgroup).
   */
  static detect(): Cgroups | undefined {
    if (process.getuid?.() !== 0) return undefined;
    let own: string;
    try {
      own = readFileSync('/proc/self/cgroup', 'utf8');
    } catch {
      return undefined;
    }
    const bases = {} as Record<(typeof CONTROLLERS)[number], string>;
    for (const controller of CONTROLLERS) {
      const line = own.split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller));
      const mount = `/sys/fs/cgroup/${controller}`;
      if (!line || !existsSync(join(mount, 'cgroup.procs'))) return undefined;
      const path = line.split(':').slice(2).join(':');
      const base = join(mount, path, 'openstage');
      try {
        mkdirSync(base, { recursive: true });
      } catch {
        return undefined;
      }
      bases[controller] = base;
    }
    return new Cgroups(bases);
  }

  /**
   * Creates (or updates) the group `name` in each hierarchy with `limits`.
   * @returns the group directories, for enterScript
   * @throws Error when the kernel refuses a limit (the message names the file)
   */
  create(name: string, limits: CgroupLimits): string[] {
    const dirs = CONTROLLERS.map((c) => join(this.bases[c], name));
    for (const dir of dirs) mkdirSync(dir, { recursive: true });
    const [memory, cpu, pids] = dirs as [string, string, string];
    const set = (dir: string, file: string, value: string | number): void => {
      try {
        writeFileSync(join(dir, file), String(value));
      } catch (err) {
        throw new Error(`cannot set ${file} of ${dir} to ${value}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    };
    if (limits.memoryBytes) set(memory, 'memory.limit_in_bytes', Math.floor(limits.memoryBytes));
    if (limits.requestMemoryBytes) set(memory, 'memory.soft_limit_in_bytes', Math.floor(limits.requestMemoryBytes));
    if (limits.cpuCores) {
      set(cpu, 'cpu.cfs_period_us', PERIOD_US);
      set(cpu, 'cpu.cfs_quota_us', Math.max(1000, Math.round(limits.cpuCores * PERIOD_US)));
    }
    if (limits.requestCpuCores) set(cpu, 'cpu.shares', Math.max(2, Math.round(limits.requestCpuCores * 1024)));
    if (limits.pidsMax) set(pids, 'pids.max', limits.pidsMax);
    return dirs;
  }

  /** Removes the group `name` once it is empty (a group with processes left is kept). */
  remove(name: string): void {
    for (const c of CONTROLLERS) {
      try {
        rmdirSync(join(this.bases[c], name));
      } catch {
        // busy (processes left) or already gone
      }
    }
  }

  /** Names of the groups that exist now (to remove those nothing runs in after a restart). */
  list(): string[] {
    try {
      return readdirSync(this.bases.pids, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return [];
    }
  }

  /** Whether the group `name` has no process left. */
  isEmpty(name: string): boolean {
    try {
      return readFileSync(join(this.bases.pids, name, 'cgroup.procs'), 'utf8').trim() === '';
    } catch {
      return true;
    }
  }

  /** Memory the group `name` uses now, bytes (undefined when unknown). */
  memoryUsage(name: string): number | undefined {
    try {
      return Number(readFileSync(join(this.bases.memory, name, 'memory.usage_in_bytes'), 'utf8'));
    } catch {
      return undefined;
    }
  }
}

/**
 * argv that moves itself into the given groups and then runs `command` (`sh -c` as root,
 * before anything is forked): `[sh, -c, script, sh, dir…, --, command, …args]`.
 */
export function enterScript(dirs: string[], command: string, args: string[]): { command: string; args: string[] } {
  const script = 'while [ "$1" != "--" ]; do echo $$ > "$1/cgroup.procs" || exit 125; shift; done; shift; exec "$@"';
  return { command: '/bin/sh', args: ['-c', script, 'sh', ...dirs, '--', command, ...args] };
}
