import type { Clock } from '../core/clock.js';
import { FileTail, serialized, watchFile } from './log-follow.js';
import type { ReplicaWatcher, Runtime } from './runtime.js';

/** One line of a replica's log, as a follow emits it. */
export interface ReplicaLogLine {
  instanceId: string;
  version: string;
  line: string;
}

/** What a follow needs from the engine. */
export interface FollowDeps {
  clock: Clock;
  runtimes: Runtime[];
  watch(watcher: ReplicaWatcher): void;
  unwatch(watcher: ReplicaWatcher): void;
}

/** Poll period of a followed file when inotify says nothing, milliseconds. */
const POLL_MS = 1000;

interface Followed {
  version: string;
  tail: FileTail;
  pump: () => Promise<void>;
  stop: () => void;
}

/**
 * Follows a component's replica logs (DeployService.followLogs): emits the last `lines` lines
 * of each running replica, then each line appended to their log files; a replica started
 * meanwhile (a scale, a roll-out) is followed from its first line, one that stops is read to
 * its end and dropped. Resolves when `signal` aborts. Replicas whose runtime has no log file
 * on this host (kubernetes pods) give their tail only.
 */
export async function followReplicaLogs(deps: FollowDeps, project: string, componentId: string, options: { lines: number; signal: AbortSignal }, emit: (line: ReplicaLogLine) => void): Promise<void> {
  const followed = new Map<string, Followed>();
  const follow = (instanceId: string, version: string, tail: FileTail): void => {
    const pump = serialized(async () => {
      for (const line of await tail.read()) emit({ instanceId, version, line });
    });
    followed.set(instanceId, { version, tail, pump, stop: watchFile(tail.path, deps.clock, POLL_MS, () => void pump()) });
  };
  for (const runtime of deps.runtimes) {
    if (!runtime.logFiles) {
      for (const l of await runtime.logs(project, componentId, options.lines)) for (const line of l.lines) emit({ instanceId: l.instanceId, version: l.version, line });
      continue;
    }
    for (const f of runtime.logFiles(project, componentId)) {
      const { lines, tail } = await FileTail.lastLines(f.path, options.lines);
      for (const line of lines) emit({ instanceId: f.instanceId, version: f.version, line });
      follow(f.instanceId, f.version, tail);
    }
  }
  const sync = serialized(async () => {
    const now = new Map(deps.runtimes.flatMap((r) => r.logFiles?.(project, componentId) ?? []).map((f) => [f.instanceId, f]));
    for (const [id, f] of followed) {
      if (now.has(id)) continue;
      f.stop();
      await f.pump();
      for (const line of f.tail.rest()) emit({ instanceId: id, version: f.version, line });
      followed.delete(id);
    }
    for (const [id, f] of now) if (!followed.has(id)) follow(id, f.version, new FileTail(f.path, 0));
  });
  const watcher: ReplicaWatcher = {
    changed: (p, c) => {
      if (p === project && c === componentId) void sync();
    },
  };
  deps.watch(watcher);
  try {
    await sync();
    await new Promise<void>((resolve) => {
      if (options.signal.aborted) return resolve();
      options.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    deps.unwatch(watcher);
    for (const f of followed.values()) f.stop();
  }
}
