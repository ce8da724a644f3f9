import type { TaskContext } from './types.js';

/** What gives up a gray release before its continue_deploy, and why (a line for the job's messages). */
export interface Supersede {
  kind: 'stop' | 'rollback' | 'delete';
  reason: string;
}

interface GrayJob {
  /** Set when a stop, rollback or delete was asked for after this release was submitted. */
  abandoned?: Supersede;
  /** Set while the release waits for continue_deploy. */
  waiting?: { resume: () => void; fail: (err: Error) => void };
}

/**
 * The gray releases of each component that have not ended — queued, rolling out their first
 * batch, or waiting for continue_deploy (servicestage.md §4 Deliver task; issue #18 items 9
 * and 17). A stop, rollback or delete asked for meanwhile must not queue behind the pause: it
 * abandons them, so that one waiting ends at once (its wait fails with the reason) and one not
 * waiting yet fails as soon as it would start to wait. In memory: a gray release is run by the
 * server its job runs on.
 */
export class GrayReleases {
  private readonly byKey = new Map<string, Map<string, GrayJob>>();

  /** Records a submitted gray release of component `key`. */
  add(key: string, jobId: string): void {
    let jobs = this.byKey.get(key);
    if (!jobs) this.byKey.set(key, (jobs = new Map()));
    jobs.set(jobId, {});
  }

  /** Forgets a gray release whose job has ended. */
  end(key: string, jobId: string): void {
    const jobs = this.byKey.get(key);
    jobs?.delete(jobId);
    if (jobs?.size === 0) this.byKey.delete(key);
  }

  /** Whether component `key` has a gray release that has not ended. */
  active(key: string): boolean {
    return (this.byKey.get(key)?.size ?? 0) > 0;
  }

  /** Whether a gray release of `key` waits for continue_deploy now. */
  waiting(key: string): boolean {
    return [...(this.byKey.get(key)?.values() ?? [])].some((j) => j.waiting);
  }

  /** Why the gray release `jobId` was abandoned, or undefined. */
  abandoned(key: string, jobId: string): Supersede | undefined {
    return this.byKey.get(key)?.get(jobId)?.abandoned;
  }

  /**
   * Abandons every unfinished gray release of `key`: one waiting for continue_deploy fails at
   * once with `why.reason`; the others fail when they reach the wait.
   * @returns the job ids abandoned
   */
  abandon(key: string, why: Supersede): string[] {
    const ids: string[] = [];
    for (const [jobId, job] of this.byKey.get(key) ?? []) {
      job.abandoned ??= why;
      job.waiting?.fail(new Error(job.abandoned.reason));
      ids.push(jobId);
    }
    return ids;
  }

  /**
   * Resumes the gray release of `key` that waits for continue_deploy.
   * @returns its job id, or undefined when none waits
   */
  resume(key: string): string | undefined {
    for (const [jobId, job] of this.byKey.get(key) ?? []) {
      if (!job.waiting) continue;
      job.waiting.resume();
      return jobId;
    }
    return undefined;
  }

  /** Ends every wait with `reason` (the server is stopping). */
  interruptAll(reason: string): void {
    for (const jobs of this.byKey.values()) for (const job of jobs.values()) job.waiting?.fail(new Error(reason));
  }

  /**
   * The job task "wait for continue_deploy" of release `ctx.jobId`: resolves on
   * continue_deploy; rejects with the reason when the release is (or was already) abandoned,
   * and with the signal's reason on a cancel or the task's timeout.
   */
  wait(key: string, ctx: TaskContext): Promise<void> {
    const job = this.byKey.get(key)?.get(ctx.jobId);
    if (job?.abandoned) return Promise.reject(new Error(job.abandoned.reason));
    return new Promise<void>((resolve, reject) => {
      const settle = (): void => {
        ctx.signal.removeEventListener('abort', onAbort);
        if (job) job.waiting = undefined;
      };
      const onAbort = (): void => {
        settle();
        reject(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error(String(ctx.signal.reason)));
      };
      if (job) {
        job.waiting = {
          resume: () => {
            settle();
            resolve();
          },
          fail: (err) => {
            settle();
            reject(err);
          },
        };
      }
      ctx.log('gray batch running; waiting for continue_deploy');
      ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
