import type { Command } from 'commander';
import { CliError, EXIT, usageError } from '../errors.js';
import { componentPath, getComponent, listComponents, replicaUrls, waitJob } from '../lookup.js';
import { formatFields, formatTable, print, printList } from '../output.js';
import type { Session } from '../session.js';
import type { WithSession } from './types.js';

interface Where {
  app?: string;
  env?: string;
}

/** `--app` and `--env`, which pick a component whose name is used in several places. */
const where = (cmd: Command): Command => cmd.option('--app <name-or-id>', 'its application').option('--env <name-or-id>', 'its environment');

/**
 * The lines of `next` that follow what was already printed (`prev`, the previous tail of the
 * same log): the longest suffix of `prev` that starts `next` is skipped.
 */
export function newLines(prev: string[], next: string[]): string[] {
  for (let k = Math.min(prev.length, next.length); k > 0; k--) {
    let same = true;
    for (let i = 0; i < k && same; i++) same = prev[prev.length - k + i] === next[i];
    if (same) return next.slice(k);
  }
  return next;
}

/** Runs a component action, follows its job and prints the component's state. */
async function act(s: Session, ref: string, o: Where & { wait: boolean; timeout: string }, action: string, parameters?: Record<string, unknown>): Promise<void> {
  const c = await getComponent(s, ref, o.app, o.env);
  const { job_id: jobId } = (await s.api.request('POST', await s.cas(`${componentPath(c)}/action`), { body: { action, ...(parameters ? { parameters } : {}) } })).body;
  if (o.wait) await waitJob(s, jobId, { timeoutSeconds: Number(o.timeout) });
  const view = (await s.api.get(await s.cas(componentPath(c)))).body;
  print(s.format, { component_id: c.id, job_id: jobId, version: view.version, status: view.status }, () =>
    o.wait ? `${c.name} ${view.version} is ${view.status?.component_status}: ${view.status?.available_replica}/${view.status?.replica} replicas ready` : `job ${jobId} submitted`,
  );
}

const waitOptions = (cmd: Command): Command => where(cmd).option('--no-wait', 'return once the job is submitted').option('--timeout <seconds>', 'longest wait for the job', '1800');

/** `openstage status|logs|scale|rollback|restart|stop|start`. */
export function componentCommands(program: Command, withSession: WithSession): void {
  where(program.command('status [component]').description('components with their state and URLs, or one component with its replicas')).action(
    withSession(async (s, ref: string | undefined, o: Where) => {
      if (!ref) {
        const all = await listComponents(s, o.app);
        printList(s.format, all, [
          { header: 'APPLICATION', get: (c) => c.application_name },
          { header: 'COMPONENT', get: (c) => c.name },
          { header: 'ENVIRONMENT', get: (c) => c.environment_name },
          { header: 'VERSION', get: (c) => c.version },
          { header: 'STATUS', get: (c) => c.status?.component_status },
          { header: 'READY', get: (c) => `${c.status?.available_replica ?? 0}/${c.status?.replica ?? 0}` },
          { header: 'URLS', get: (c) => replicaUrls(s, c.status).join(' ') },
        ]);
        return;
      }
      const c = await getComponent(s, ref, o.app, o.env);
      const view = (await s.api.get(await s.cas(componentPath(c)))).body;
      const st = view.status ?? {};
      print(s.format, view, () => {
        const head = formatFields([['component', `${view.application_name}/${view.name}`], ['environment', view.environment_name], ['version', view.version], ['status', st.component_status], ['replicas', `${st.available_replica}/${st.replica} ready`], ['failure', st.fail_detail], ['last job', st.last_job_id], ['urls', replicaUrls(s, st).join(' ')]]);
        const instances = st.instances ?? [];
        return instances.length ? `${head}\n\n${formatTable(instances, [{ header: 'INSTANCE', get: (i: any) => i.instance_id }, { header: 'VERSION', get: (i: any) => i.version }, { header: 'PORT', get: (i: any) => i.port }, { header: 'STATE', get: (i: any) => i.state }, { header: 'READY', get: (i: any) => i.ready }, { header: 'RESTARTS', get: (i: any) => i.restarts }])}` : head;
      });
    }),
  );

  where(program.command('logs <component>').description("the last lines of each replica's log; -f keeps printing new lines"))
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('--lines <n>', 'lines per replica (1–1000)', '100')
    .option('--interval <ms>', 'poll period with --follow', '1000')
    .action(
      withSession(async (s, ref: string, o: Where & { follow?: boolean; lines: string; interval: string }) => {
        const lines = Number(o.lines);
        if (!Number.isInteger(lines) || lines < 1 || lines > 1000) throw usageError('--lines must be 1 to 1000');
        const c = await getComponent(s, ref, o.app, o.env);
        const path = await s.cas(`${componentPath(c)}/logs`);
        const fetchLogs = async (): Promise<{ instance_id: string; version: string; lines: string[] }[]> => (await s.api.get(path, { query: { lines } })).body.logs ?? [];
        const first = await fetchLogs();
        if (!o.follow) {
          print(s.format, first, () => first.map((l) => (first.length > 1 ? l.lines.map((x) => `[${l.instance_id.slice(0, 8)}] ${x}`) : l.lines).join('\n')).filter(Boolean).join('\n'));
          return;
        }
        // Follow: poll the tail and print what is new per replica, one JSON object per line with -o json.
        const seen = new Map<string, string[]>();
        const emit = (logs: typeof first): void => {
          const many = logs.length > 1 || seen.size > 1;
          for (const l of logs) {
            const fresh = newLines(seen.get(l.instance_id) ?? [], l.lines);
            seen.set(l.instance_id, l.lines);
            for (const line of fresh) process.stdout.write(s.format === 'table' ? `${many ? `[${l.instance_id.slice(0, 8)}] ` : ''}${line}\n` : `${JSON.stringify({ instance_id: l.instance_id, version: l.version, line })}\n`);
          }
        };
        emit(first);
        // Interrupting is the normal end of a follow: exit 0 at once.
        process.once('SIGINT', () => process.exit(0));
        process.once('SIGTERM', () => process.exit(0));
        for (;;) {
          await new Promise((r) => setTimeout(r, Number(o.interval)));
          emit(await fetchLogs());
        }
      }),
    );

  waitOptions(program.command('scale <component> <replicas>').description('set the replica count (0 stops every replica)')).action(
    withSession(async (s, ref: string, count: string, o: Where & { wait: boolean; timeout: string }) => {
      const replica = Number(count);
      if (!Number.isInteger(replica) || replica < 0 || replica > 100) throw usageError('replicas must be 0 to 100');
      await act(s, ref, o, 'scale', { replica });
    }),
  );

  waitOptions(program.command('rollback <component> [version]').description('run a version deployed before again (default: the one before the current)')).action(
    withSession(async (s, ref: string, version: string | undefined, o: Where & { wait: boolean; timeout: string }) => {
      let target = version;
      if (!target) {
        const c = await getComponent(s, ref, o.app, o.env);
        const records: any[] = (await s.api.get(await s.cas(`${componentPath(c)}/records`))).body.records ?? [];
        // Records are newest first: the latest successful deploy of another version.
        target = records.find((r) => r.status === 'SUCCEEDED' && ['deploy', 'upgrade', 'rollback'].includes(r.deploy_type) && r.version !== c.version)?.version;
        if (!target) throw new CliError(`${c.name} has no earlier version to roll back to`, EXIT.failed);
      }
      await act(s, ref, o, 'rollback', { version: target });
    }),
  );

  for (const [name, description] of [
    ['restart', 'restart every replica (one batch)'],
    ['stop', 'stop every replica (the component stays)'],
    ['start', 'start a stopped component'],
  ] as const) {
    waitOptions(program.command(`${name} <component>`).description(description)).action(
      withSession(async (s, ref: string, o: Where & { wait: boolean; timeout: string }) => {
        await act(s, ref, o, name);
      }),
    );
  }
}
