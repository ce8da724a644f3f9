import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { CliError, EXIT, notFound, usageError } from '../errors.js';
import { componentPath, findEnvironment, getApplication, getComponent, listApplications, listComponents, listEnvironments, waitJob } from '../lookup.js';
import { formatFields, formatTable, print, printList } from '../output.js';
import type { Session } from '../session.js';
import type { WithSession } from './types.js';

const time = (ms: unknown): string => (typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z') : '-');

/** A JSON or YAML request body from a file (`-` = stdin). @throws CliError exit 2 */
export function readBodyFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw usageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const body = parseYaml(text) as unknown;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('expected an object');
    return body as Record<string, unknown>;
  } catch (err) {
    throw usageError(`${path}: ${(err as Error).message}`);
  }
}

/** `{resources}` binding this machine (ecs `local`) and the built-in engine (cse `default`). */
export const LOCAL_BINDINGS = { resources: [{ id: 'local', type: 'ecs' }, { id: 'default', type: 'cse' }] };

/**
 * Creates an environment that runs components on this machine, bound to the built-in engine.
 * @returns the created environment
 */
export async function createLocalEnvironment(s: Session, name: string, description?: string): Promise<any> {
  const env = (await s.api.request('POST', await s.cas('/environments'), { body: { name, deploy_mode: 'virtualmachine', ...(description ? { description } : {}) } })).body;
  await s.api.request('PUT', await s.cas(`/environments/${env.id}/resources`), { body: LOCAL_BINDINGS });
  return env;
}

/** `openstage env|app|component|config|stack|job …`: the ServiceStage resources. */
export function resourceCommands(program: Command, withSession: WithSession): void {
  // ── environments ──
  const env = program.command('env').alias('environment').description('environments');
  env.command('list').description('list environments').action(
    withSession(async (s) => {
      printList(s.format, await listEnvironments(s), [
        { header: 'NAME', get: (e) => e.name },
        { header: 'ID', get: (e) => e.id },
        { header: 'MODE', get: (e) => e.deploy_mode },
        { header: 'CREATED', get: (e) => time(e.create_time) },
      ]);
    }),
  );
  env.command('show <name-or-id>').description('an environment with its bound resources').action(
    withSession(async (s, ref: string) => {
      const e = await findEnvironment(s, ref);
      if (!e) throw notFound(`environment ${ref}`);
      const resources = (await s.api.get(await s.cas(`/environments/${e.id}/resources`))).body.resources ?? [];
      print(s.format, { ...e, resources }, () => `${formatFields([['name', e.name], ['id', e.id], ['mode', e.deploy_mode], ['description', e.description], ['created', time(e.create_time)]])}\nresources:${resources.length ? `\n${formatTable(resources, [{ header: '  TYPE', get: (r: any) => `  ${r.type}` }, { header: 'ID', get: (r: any) => r.id }, { header: 'NAME', get: (r: any) => r.name }])}` : ' none'}`);
    }),
  );
  env
    .command('create <name>')
    .description('create an environment; by default this machine (ecs local) and the built-in engine (cse default) are bound to it')
    .option('--description <text>', 'description')
    .option('--no-bind', 'bind nothing')
    .action(
      withSession(async (s, name: string, o: { description?: string; bind: boolean }) => {
        const e = o.bind ? await createLocalEnvironment(s, name, o.description) : (await s.api.request('POST', await s.cas('/environments'), { body: { name, deploy_mode: 'virtualmachine', ...(o.description ? { description: o.description } : {}) } })).body;
        print(s.format, e, () => `environment ${e.name} created, id ${e.id}`);
      }),
    );
  env.command('delete <name-or-id>').description('delete an environment (it must have no components)').action(
    withSession(async (s, ref: string) => {
      const e = await findEnvironment(s, ref);
      if (!e) throw notFound(`environment ${ref}`);
      await s.api.request('DELETE', await s.cas(`/environments/${e.id}`));
      print(s.format, { id: e.id, deleted: true }, () => `environment ${e.name} deleted`);
    }),
  );

  // ── applications ──
  const app = program.command('app').alias('application').description('applications');
  app.command('list').description('list applications').action(
    withSession(async (s) => {
      printList(s.format, await listApplications(s), [
        { header: 'NAME', get: (a) => a.name },
        { header: 'ID', get: (a) => a.id },
        { header: 'COMPONENTS', get: (a) => a.component_count },
        { header: 'CREATED', get: (a) => time(a.create_time) },
      ]);
    }),
  );
  app.command('show <name-or-id>').description('an application and its components').action(
    withSession(async (s, ref: string) => {
      const a = await getApplication(s, ref);
      const components = await listComponents(s, a.id);
      print(s.format, { ...a, components }, () => `${formatFields([['name', a.name], ['id', a.id], ['description', a.description], ['created', time(a.create_time)]])}\ncomponents:${components.length ? `\n${formatTable(components, [{ header: '  NAME', get: (c: any) => `  ${c.name}` }, { header: 'ENVIRONMENT', get: (c: any) => c.environment_name }, { header: 'VERSION', get: (c: any) => c.version }, { header: 'STATUS', get: (c: any) => c.status?.component_status }])}` : ' none'}`);
    }),
  );
  app.command('create <name>').description('create an application').option('--description <text>', 'description').action(
    withSession(async (s, name: string, o: { description?: string }) => {
      const a = (await s.api.request('POST', await s.cas('/applications'), { body: { name, ...(o.description ? { description: o.description } : {}) } })).body;
      print(s.format, a, () => `application ${a.name} created, id ${a.id}`);
    }),
  );
  app.command('delete <name-or-id>').description('delete an application (it must have no components)').action(
    withSession(async (s, ref: string) => {
      const a = await getApplication(s, ref);
      await s.api.request('DELETE', await s.cas(`/applications/${a.id}`));
      print(s.format, { id: a.id, deleted: true }, () => `application ${a.name} deleted`);
    }),
  );

  // ── components ──
  const component = program.command('component').description('components (see also deploy, status, logs, scale, rollback)');
  component.command('list').description('list components').option('--app <name-or-id>', 'of one application').action(
    withSession(async (s, o: { app?: string }) => {
      printList(s.format, await listComponents(s, o.app), [
        { header: 'NAME', get: (c) => c.name },
        { header: 'APPLICATION', get: (c) => c.application_name },
        { header: 'ENVIRONMENT', get: (c) => c.environment_name },
        { header: 'STACK', get: (c) => c.runtime_stack?.name },
        { header: 'VERSION', get: (c) => c.version },
        { header: 'STATUS', get: (c) => c.status?.component_status },
        { header: 'READY', get: (c) => `${c.status?.available_replica ?? 0}/${c.status?.replica ?? 0}` },
      ]);
    }),
  );
  component.command('show <name-or-id>').description('a component as the API answers it').option('--app <name-or-id>', 'its application').option('--env <name-or-id>', 'its environment').action(
    withSession(async (s, ref: string, o: { app?: string; env?: string }) => {
      const c = await getComponent(s, ref, o.app, o.env);
      const full = (await s.api.get(await s.cas(componentPath(c)))).body;
      print(s.format, full, () => formatFields([['name', full.name], ['id', full.id], ['application', full.application_name], ['environment', full.environment_name], ['stack', full.runtime_stack?.name], ['version', full.version], ['source', full.source?.repo_url ?? full.source?.url], ['status', full.status?.component_status], ['replicas', `${full.status?.available_replica}/${full.status?.replica} ready`], ['last job', full.status?.last_job_id]]));
    }),
  );
  component
    .command('create')
    .description('create a component from a request body (JSON or YAML, servicestage.md §4.1) and wait for its deployment')
    .requiredOption('--app <name-or-id>', 'its application')
    .requiredOption('-f, --file <file>', 'the body (- for stdin)')
    .option('--no-wait', 'return once the job is submitted')
    .action(
      withSession(async (s, o: { app: string; file: string; wait: boolean }) => {
        const a = await getApplication(s, o.app);
        const r = (await s.api.request('POST', await s.cas(`/applications/${a.id}/components`), { body: readBodyFile(o.file) })).body;
        if (o.wait) await waitJob(s, r.job_id);
        print(s.format, r, () => `component ${r.component_id} created (job ${r.job_id})`);
      }),
    );
  component.command('delete <name-or-id>').description('delete a component: its replicas stop').option('--app <name-or-id>', 'its application').option('--env <name-or-id>', 'its environment').option('--no-wait', 'return once the removal is submitted').action(
    withSession(async (s, ref: string, o: { app?: string; env?: string; wait: boolean }) => {
      const c = await getComponent(s, ref, o.app, o.env);
      await s.api.request('DELETE', await s.cas(componentPath(c)));
      if (o.wait) {
        const deadline = Date.now() + 300_000;
        // The removal's job id is in the component's status while it runs; the component then disappears.
        for (;;) {
          const still = (await listComponents(s, c.application_id)).some((x) => x.id === c.id);
          if (!still) break;
          if (Date.now() > deadline) throw new CliError(`component ${c.name} is still being deleted`, EXIT.timeout);
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
      print(s.format, { id: c.id, deleted: true }, () => `component ${c.name} deleted`);
    }),
  );

  // ── config files ──
  const config = program.command('config').description('configuration files (ServiceStage config groups and configs)');
  const listConfigs = async (s: Session): Promise<any[]> => (await s.api.get(await s.cas('/configs'))).body.configs;
  const listGroups = async (s: Session): Promise<any[]> => (await s.api.get(await s.cas('/config-groups'))).body.config_groups;
  const getConfig = async (s: Session, ref: string): Promise<any> => {
    const all = await listConfigs(s);
    const found = all.find((c) => c.id === ref) ?? all.find((c) => c.name === ref);
    if (!found) throw notFound(`config ${ref}`);
    return (await s.api.get(await s.cas(`/configs/${found.id}`))).body;
  };
  config.command('list').description('list config files').action(
    withSession(async (s) => {
      const groups = new Map((await listGroups(s)).map((g) => [g.id, g.name]));
      printList(s.format, await listConfigs(s), [
        { header: 'NAME', get: (c) => c.name },
        { header: 'GROUP', get: (c) => groups.get(c.config_group_id) ?? c.config_group_id },
        { header: 'TYPE', get: (c) => c.type },
        { header: 'VERSION', get: (c) => c.version },
        { header: 'ID', get: (c) => c.id },
      ]);
    }),
  );
  config.command('show <name-or-id>').description('a config file with its content').action(
    withSession(async (s, ref: string) => {
      const c = await getConfig(s, ref);
      print(s.format, c, () => (c.sensitive ? '(sensitive: content not shown)' : c.content));
    }),
  );
  config
    .command('create <name>')
    .description('create a config file in a group (the group is created when missing)')
    .requiredOption('--group <name-or-id>', 'config group')
    .requiredOption('-f, --file <file>', 'the content (- for stdin)')
    .option('--type <type>', 'yaml or properties', 'yaml')
    .option('--sensitive', 'never show its content again')
    .action(
      withSession(async (s, name: string, o: { group: string; file: string; type: string; sensitive?: boolean }) => {
        let content: string;
        try {
          content = readFileSync(o.file === '-' ? 0 : o.file, 'utf8');
        } catch (err) {
          throw usageError(`cannot read ${o.file}: ${(err as Error).message}`);
        }
        let group = (await listGroups(s)).find((g) => g.id === o.group || g.name === o.group);
        if (!group) group = (await s.api.request('POST', await s.cas('/config-groups'), { body: { name: o.group } })).body;
        const c = (await s.api.request('POST', await s.cas('/configs'), { body: { config_group_id: group.id, name, type: o.type, content, ...(o.sensitive ? { sensitive: true } : {}) } })).body;
        print(s.format, c, () => `config ${c.name} created in group ${group.name}, id ${c.id}`);
      }),
    );
  config.command('delete <name-or-id>').description('delete a config file (not while a component mounts it)').action(
    withSession(async (s, ref: string) => {
      const c = await getConfig(s, ref);
      await s.api.request('DELETE', await s.cas(`/configs/${c.id}`));
      print(s.format, { id: c.id, deleted: true }, () => `config ${c.name} deleted`);
    }),
  );

  // ── runtime stacks ──
  const stack = program.command('stack').description('runtime stacks');
  const listStacks = async (s: Session): Promise<any[]> => (await s.api.get(await s.cas('/runtimestacks'))).body.runtime_stacks;
  const getStack = async (s: Session, ref: string): Promise<any> => {
    const all = await listStacks(s);
    const found = all.find((x) => x.id === ref) ?? all.find((x) => x.name === ref);
    if (!found) throw notFound(`runtime stack ${ref}`);
    return found;
  };
  stack.command('list').description('list runtime stacks (system ones first)').action(
    withSession(async (s) => {
      printList(s.format, await listStacks(s), [
        { header: 'NAME', get: (x) => x.name },
        { header: 'TYPE', get: (x) => x.type },
        { header: 'VERSION', get: (x) => x.version },
        { header: 'MODE', get: (x) => x.deploy_mode },
        { header: 'SYSTEM', get: (x) => (x.system ? 'yes' : 'no') },
        { header: 'ID', get: (x) => x.id },
      ]);
    }),
  );
  stack.command('show <name-or-id>').description('a runtime stack').action(
    withSession(async (s, ref: string) => {
      const x = await getStack(s, ref);
      print(s.format, x, () => formatFields([['name', x.name], ['id', x.id], ['type', x.type], ['version', x.version], ['mode', x.deploy_mode], ['system', x.system ? 'yes' : 'no'], ['description', x.description]]));
    }),
  );
  stack.command('create').description('create a runtime stack from a request body (JSON or YAML)').requiredOption('-f, --file <file>', 'the body (- for stdin)').action(
    withSession(async (s, o: { file: string }) => {
      const x = (await s.api.request('POST', await s.cas('/runtimestacks'), { body: readBodyFile(o.file) })).body;
      print(s.format, x, () => `runtime stack ${x.name} created, id ${x.id}`);
    }),
  );
  stack.command('delete <name-or-id>').description('delete a runtime stack of the project').action(
    withSession(async (s, ref: string) => {
      const x = await getStack(s, ref);
      await s.api.request('DELETE', await s.cas(`/runtimestacks/${x.id}`));
      print(s.format, { id: x.id, deleted: true }, () => `runtime stack ${x.name} deleted`);
    }),
  );

  // ── jobs ──
  const job = program.command('job').description('jobs (deployments and actions; made by other commands)');
  job
    .command('list')
    .description("jobs recorded against components, newest first (the API lists no jobs of its own)")
    .option('--app <name-or-id>', 'of one application')
    .option('--component <name-or-id>', 'of one component')
    .action(
      withSession(async (s, o: { app?: string; component?: string }) => {
        const components = o.component ? [await getComponent(s, o.component, o.app)] : await listComponents(s, o.app);
        const rows: any[] = [];
        for (const c of components) {
          for (const r of (await s.api.get(await s.cas(`${componentPath(c)}/records`))).body.records ?? []) {
            rows.push({ job_id: r.jobs?.[0]?.job_id, component: c.name, application: c.application_name, deploy_type: r.deploy_type, version: r.version, status: r.status, begin_time: r.begin_time, end_time: r.end_time, description: r.description });
          }
        }
        rows.sort((a, b) => String(b.begin_time).localeCompare(String(a.begin_time)));
        printList(s.format, rows, [
          { header: 'JOB', get: (r) => r.job_id },
          { header: 'COMPONENT', get: (r) => `${r.application}/${r.component}` },
          { header: 'TYPE', get: (r) => r.deploy_type },
          { header: 'VERSION', get: (r) => r.version },
          { header: 'STATUS', get: (r) => r.status },
          { header: 'BEGIN', get: (r) => r.begin_time.replace(/\.\d+Z$/, 'Z') },
        ]);
      }),
    );
  job.command('show <job-id>').description('a job and its tasks').action(
    withSession(async (s, id: string) => {
      const d = (await s.api.get(await s.cas(`/jobs/${encodeURIComponent(id)}`))).body;
      print(s.format, d, () => `${formatFields([['job', d.job.job_id], ['type', d.job.job_type], ['status', d.job.execution_status]])}\n${formatTable(d.tasks, [{ header: 'TASK', get: (t: any) => t.task_name }, { header: 'STATUS', get: (t: any) => t.task_status }, { header: 'LAST MESSAGE', get: (t: any) => String(t.messages ?? '').split('\n').pop() }])}`);
    }),
  );
  job.command('wait <job-id>').description('follow a job until it ends (exit 1 if it fails)').option('--timeout <seconds>', 'longest wait', '1800').action(
    withSession(async (s, id: string, o: { timeout: string }) => {
      const d = await waitJob(s, id, { timeoutSeconds: Number(o.timeout) });
      print(s.format, d, () => `job ${id} ${d.job.execution_status}`);
    }),
  );
  job.command('cancel <job-id>').description('cancel a queued or running job').action(
    withSession(async (s, id: string) => {
      const d = (await s.api.request('POST', await s.cas(`/jobs/${encodeURIComponent(id)}/action`), { body: { action: 'cancel' } })).body;
      print(s.format, d ?? { job_id: id }, () => `job ${id} cancelled`);
    }),
  );
}
