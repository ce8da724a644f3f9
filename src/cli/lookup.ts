import { CliError, EXIT, notFound, usageError } from './errors.js';
import { progress } from './output.js';
import type { Session } from './session.js';

/** Lists are per project and small: fetched whole and matched here, by id or exact name. */
function byIdOrName<T extends { id: string; name: string }>(items: T[], ref: string): T | undefined {
  return items.find((i) => i.id === ref) ?? items.find((i) => i.name === ref);
}

/** Every environment of the project. */
export async function listEnvironments(s: Session): Promise<any[]> {
  return (await s.api.get(await s.cas('/environments'))).body.environments;
}

/** The environment named or numbered `ref`, or undefined. */
export async function findEnvironment(s: Session, ref: string): Promise<any | undefined> {
  return byIdOrName(await listEnvironments(s), ref);
}

/** Every application of the project. */
export async function listApplications(s: Session): Promise<any[]> {
  return (await s.api.get(await s.cas('/applications'))).body.applications;
}

/** The application named or numbered `ref`. @throws CliError exit 4 */
export async function getApplication(s: Session, ref: string): Promise<any> {
  const app = byIdOrName(await listApplications(s), ref);
  if (!app) throw notFound(`application ${ref}`);
  return app;
}

/** Components of the project (list items), of one application when `app` is given. */
export async function listComponents(s: Session, app?: string): Promise<any[]> {
  if (app) return (await s.api.get(await s.cas(`/applications/${(await getApplication(s, app)).id}/components`))).body.components;
  return (await s.api.get(await s.cas('/components'))).body.components;
}

/**
 * The component named or numbered `ref` (in application `app` when given; a name used in
 * several applications or environments needs `--app`/`--env`). @returns its list item
 * @throws CliError exit 4 when absent, exit 2 when ambiguous
 */
export async function getComponent(s: Session, ref: string, app?: string, env?: string): Promise<any> {
  const all = await listComponents(s, app);
  const byId = all.find((c) => c.id === ref);
  if (byId) return byId;
  const named = all.filter((c) => c.name === ref && (!env || c.environment_name === env || c.environment_id === env));
  if (named.length === 0) throw notFound(`component ${ref}${app ? ` in application ${app}` : ''}`);
  if (named.length > 1) throw usageError(`component ${ref} is in several places (${named.map((c) => `${c.application_name}/${c.environment_name}`).join(', ')}): give --app and --env`);
  return named[0];
}

/** `/applications/{app}/components/{id}` of a component list item. */
export function componentPath(c: { application_id: string; id: string }): string {
  return `/applications/${c.application_id}/components/${c.id}`;
}

/** The URLs a component answers on: one per replica, on the server's host. */
export function replicaUrls(s: Session, status: { instances?: { port: number; ready?: boolean }[] } | undefined): string[] {
  const host = new URL(s.api.url).hostname;
  return (status?.instances ?? []).filter((i) => i.port > 0).map((i) => `http://${host.includes(':') ? `[${host}]` : host}:${i.port}`);
}

/** Options of waitJob. */
export interface WaitOptions {
  /** Print each task's state changes and messages on stderr as they come (default true). */
  follow?: boolean;
  /** Longest wait in seconds (default 1800). */
  timeoutSeconds?: number;
  /** Poll period in milliseconds (default 1000). */
  pollMs?: number;
}

/**
 * Polls GET /jobs/{id} until the job ends, printing progress lines (`[ 12s] build: …`) on
 * stderr. @returns the job detail
 * @throws CliError exit 1 when the job failed (its failed task and last lines), exit 6 on timeout
 */
export async function waitJob(s: Session, jobId: string, options: WaitOptions = {}): Promise<any> {
  const started = Date.now();
  const deadline = started + (options.timeoutSeconds ?? 1800) * 1000;
  const seen = new Map<string, { status: string; last?: string }>();
  const stamp = (): string => `[${String(Math.round((Date.now() - started) / 1000)).padStart(4)}s]`;
  for (;;) {
    const detail = (await s.api.get(await s.cas(`/jobs/${jobId}`))).body;
    for (const task of detail.tasks ?? []) {
      const prev = seen.get(task.task_id) ?? { status: '' };
      const lines: string[] = task.messages ? String(task.messages).split('\n') : [];
      // Messages are capped per task: print what follows the last line printed.
      const from = prev.last === undefined ? 0 : lines.lastIndexOf(prev.last) + 1;
      if (options.follow !== false) {
        // A task that started is announced before its lines; one that ended, after them.
        const changed = task.task_status !== prev.status && task.task_status !== 'PENDING';
        if (changed && task.task_status === 'RUNNING') progress(`${stamp()} ${task.task_name}: ${task.task_status}`);
        for (const line of lines.slice(from)) progress(`${stamp()} ${task.task_name}: ${line}`);
        if (changed && task.task_status !== 'RUNNING') progress(`${stamp()} ${task.task_name}: ${task.task_status}`);
      }
      seen.set(task.task_id, { status: task.task_status, ...(lines.length ? { last: lines[lines.length - 1] } : prev.last !== undefined ? { last: prev.last } : {}) });
    }
    const status = detail.job?.execution_status;
    if (status === 'SUCCEEDED') return detail;
    if (status === 'FAILED') {
      const failed = (detail.tasks ?? []).find((t: any) => t.task_status === 'FAILED');
      const tail = failed ? String(failed.messages ?? '').split('\n').slice(-5).join(' | ') : '';
      throw new CliError(`job ${jobId} FAILED${failed ? ` in ${failed.task_name}: ${tail}` : ''}`, EXIT.failed);
    }
    if (Date.now() > deadline) throw new CliError(`job ${jobId} still ${status} after ${options.timeoutSeconds ?? 1800} s (openstage job show ${jobId})`, EXIT.timeout);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
  }
}
