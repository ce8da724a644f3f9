import type { Command } from 'commander';
import { CliError, EXIT, notFound } from '../errors.js';
import { print, printList, progress } from '../output.js';
import type { Session } from '../session.js';
import type { WithSession } from './types.js';

/** Every engine of the project, the built-in one first. */
async function listEngines(s: Session): Promise<any[]> {
  return (await s.api.get(`/v2/${await s.project()}/enginemgr/engines`)).body.data ?? [];
}

/** The engine named or numbered `ref`. @throws CliError exit 4 */
async function getEngine(s: Session, ref: string): Promise<any> {
  const all = await listEngines(s);
  const found = all.find((e) => e.id === ref) ?? all.find((e) => e.name === ref);
  if (!found) throw notFound(`engine ${ref}`);
  return found;
}

/**
 * Follows an engine job (Init → Executing → Finished | Error | Timeout), printing each
 * change of its status on stderr. @throws CliError exit 1 when it ends in Error or Timeout
 */
async function waitEngineJob(s: Session, engineId: string, jobId: number, timeoutSeconds: number): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let last = '';
  for (;;) {
    const job = (await s.api.get(`/v2/${await s.project()}/enginemgr/engines/${engineId}/jobs/${jobId}`)).body;
    if (job.status !== last) progress(`job ${jobId}: ${(last = job.status)}`);
    if (job.status === 'Finished') return;
    if (job.status === 'Error' || job.status === 'Timeout') {
      const failed = (job.tasks ?? []).flatMap((t: any) => t.taskExecutionStatus === 'Error' || t.status === 'Error' ? [t.taskName ?? t.name] : []);
      throw new CliError(`engine job ${jobId} ended in ${job.status}${failed.length ? ` (${failed.join(', ')})` : ''}`, EXIT.failed);
    }
    if (Date.now() > deadline) throw new CliError(`engine job ${jobId} still ${job.status} after ${timeoutSeconds} s`, EXIT.timeout);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** `openstage engine list|show|create|delete`: CSE engines (the built-in one and exclusive ones). */
export function engineCommands(program: Command, withSession: WithSession): void {
  const engine = program.command('engine').description('CSE engines: the built-in one and exclusive registry + config center processes');
  engine.command('list').description('list engines').action(
    withSession(async (s) => {
      printList(s.format, await listEngines(s), [
        { header: 'NAME', get: (e) => e.name },
        { header: 'ID', get: (e) => e.id },
        { header: 'STATUS', get: (e) => e.status },
        { header: 'FLAVOR', get: (e) => e.flavor },
        { header: 'AUTH', get: (e) => e.authType },
        { header: 'INSTANCES', get: (e) => `${e.usedInstance}/${e.totalInstance}` },
        { header: 'ADDRESS', get: (e) => e.serviceEndpoint?.serviceCenter?.masterEntrypoint ?? e.externalAddress },
      ]);
    }),
  );
  engine.command('show <name-or-id>').description('an engine with its addresses').action(
    withSession(async (s, ref: string) => {
      const e = await getEngine(s, ref);
      const detail = (await s.api.get(`/v2/${await s.project()}/enginemgr/engines/${e.id}`)).body;
      print(s.format, detail, () => JSON.stringify(detail, null, 2));
    }),
  );
  engine
    .command('create <name>')
    .description('create an exclusive engine and wait until it runs')
    .option('--flavor <flavor>', 'cse.s1.small2, medium2, large2 or xlarge2 (instance quota)', 'cse.s1.small2')
    .option('--rbac-password <password>', 'turn engine RBAC on, with this password for its root account')
    .option('--description <text>', 'description')
    .option('--no-wait', 'return once the job is submitted')
    .option('--timeout <seconds>', 'longest wait', '300')
    .action(
      withSession(async (s, name: string, o: { flavor: string; rbacPassword?: string; description?: string; wait: boolean; timeout: string }) => {
        const body = { name, flavor: o.flavor, payment: '1', azList: ['az1'], specType: 'CSE2', authType: o.rbacPassword ? 'RBAC' : 'NONE', ...(o.rbacPassword ? { auth_cred: { pwd: o.rbacPassword } } : {}), ...(o.description ? { description: o.description } : {}) };
        const r = (await s.api.request('POST', `/v2/${await s.project()}/enginemgr/engines`, { body })).body;
        if (o.wait) await waitEngineJob(s, r.id, r.jobId, Number(o.timeout));
        print(s.format, r, () => `engine ${r.name} ${o.wait ? 'running' : 'being created'}, id ${r.id}`);
      }),
    );
  engine.command('delete <name-or-id>').description('delete an exclusive engine (its process stops)').option('--no-wait', 'return once the job is submitted').option('--timeout <seconds>', 'longest wait', '120').action(
    withSession(async (s, ref: string, o: { wait: boolean; timeout: string }) => {
      const e = await getEngine(s, ref);
      const r = (await s.api.request('DELETE', `/v2/${await s.project()}/enginemgr/engines/${e.id}`)).body;
      if (o.wait) await waitEngineJob(s, e.id, r.jobId, Number(o.timeout));
      print(s.format, r, () => `engine ${e.name} deleted`);
    }),
  );
}
