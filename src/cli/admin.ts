import type { Command } from 'commander';
import { Api } from './client.js';
import { configPath, pickContext, readCliConfig, type ContextAuth } from './context.js';
import { CliError, EXIT } from './errors.js';
import { DEFAULT_URL } from './session.js';

interface AdminOptions {
  url?: string;
  accessKey?: string;
  secretKey?: string;
  context?: string;
}

/**
 * The admin's client: --url/OPENSTAGE_URL/the context's server, signed with --access-key and
 * --secret-key, OPENSTAGE_ACCESS_KEY/OPENSTAGE_SECRET_KEY, or the context's credentials.
 * @throws CliError when no admin credentials are given
 */
function adminApi(options: AdminOptions): Api {
  const env = process.env;
  const picked = pickContext(readCliConfig(configPath(env)), options.context ?? (env.OPENSTAGE_CONTEXT || undefined));
  const url = options.url ?? (env.OPENSTAGE_URL || undefined) ?? picked?.context.url ?? DEFAULT_URL;
  const ak = options.accessKey ?? env.OPENSTAGE_ACCESS_KEY ?? '';
  const sk = options.secretKey ?? env.OPENSTAGE_SECRET_KEY ?? '';
  let auth: ContextAuth | undefined = ak && sk ? { type: 'aksk', accessKey: ak, secretKey: sk } : undefined;
  if (!auth && !ak && !sk && picked && picked.context.url === url && picked.context.auth.type !== 'none') auth = picked.context.auth;
  if (!auth) throw new CliError('the admin access key is needed: --access-key/--secret-key or OPENSTAGE_ACCESS_KEY/OPENSTAGE_SECRET_KEY (or openstage login as the admin)');
  return new Api({ url, auth });
}

/**
 * Runs an admin action. Administration commands keep their exit codes: 1 on any failure,
 * 2 for bad usage (commander's).
 */
function run<A extends unknown[]>(fn: (api: Api, out: (line: string) => void, ...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    try {
      await fn(adminApi(cmd.optsWithGlobals<AdminOptions>()), (line) => void process.stdout.write(`${line}\n`), ...args);
    } catch (err) {
      if (err instanceof CliError && err.exitCode !== EXIT.usage) throw new CliError(err.message, EXIT.failed);
      throw err;
    }
  };
}

const adminOptions = (cmd: Command): Command =>
  cmd.option('--access-key <ak>', "the admin's access key (OPENSTAGE_ACCESS_KEY)").option('--secret-key <sk>', "the admin's secret key (OPENSTAGE_SECRET_KEY)");

const enc = encodeURIComponent;

/**
 * `openstage user|project|key …`: administration through a running server's IAM admin
 * routes, signed as the admin, so the server's in-memory view stays current.
 */
export function adminCommands(program: Command): void {
  const user = program.command('user').description('IAM users (admin)');
  adminOptions(user.command('create').description('create a user').requiredOption('--name <name>', 'user name').requiredOption('--password <password>', 'password')).action(
    run(async (api, out, o: { name: string; password: string }) => {
      const { body } = await api.request('POST', '/v3.0/OS-USER/users', { body: { user: { name: o.name, password: o.password } } });
      out(`user ${body.user.name} created, id ${body.user.id}`);
    }),
  );
  adminOptions(user.command('list').description('list users with their projects')).action(
    run(async (api, out) => {
      for (const u of (await api.get('/v3/users')).body.users) out(`${u.id}\t${u.name}\tprojects: ${u.project_ids.join(',') || '-'}`);
    }),
  );

  const project = program.command('project').description('IAM projects (admin)');
  adminOptions(project.command('create').description('create a project').requiredOption('--name <name>', 'project name')).action(
    run(async (api, out, o: { name: string }) => {
      const { body } = await api.request('POST', '/v3/projects', { body: { project: { name: o.name } } });
      out(`project ${body.project.name} created, id ${body.project.id}`);
    }),
  );
  adminOptions(project.command('list').description('list projects')).action(
    run(async (api, out) => {
      for (const p of (await api.get('/v3/projects')).body.projects) out(`${p.id}\t${p.name}`);
    }),
  );
  // --project is the global option (commander gives it to the program wherever it stands).
  adminOptions(project.command('add-user').description('make a user a member of the project given by --project <id>').requiredOption('--user <name-or-id>', 'user')).action(
    run(async (api, out, o: { user: string }, cmd: Command) => {
      const id = cmd.optsWithGlobals<{ project?: string }>().project;
      if (!id) throw new CliError('--project <id> is required', EXIT.usage);
      await api.request('PUT', `/v3/projects/${enc(id)}/users/${enc(o.user)}/roles/member`);
      out(`user ${o.user} added to project ${id}`);
    }),
  );

  const key = program.command('key').description('access keys (AK/SK) (admin)');
  adminOptions(key.command('create').description("create an access key; the secret key is printed once").option('--user <name-or-id>', 'owner (default admin)')).action(
    run(async (api, out, o: { user?: string }) => {
      const { body } = await api.request('POST', '/v3.0/OS-CREDENTIAL/credentials', { body: { credential: { user_id: o.user ?? 'admin' } } });
      out(`access key (AK): ${body.credential.access}`);
      out(`secret key (SK): ${body.credential.secret}   (shown once)`);
    }),
  );
  adminOptions(key.command('list').description('list access keys').option('--user <name-or-id>', 'owner')).action(
    run(async (api, out, o: { user?: string }) => {
      for (const k of (await api.get('/v3.0/OS-CREDENTIAL/credentials', { query: { user_id: o.user } })).body.credentials) out(`${k.access}\t${k.user_id}\t${k.status}\t${k.create_time}`);
    }),
  );
  adminOptions(key.command('delete').description('delete an access key').requiredOption('--key <ak>', 'the access key')).action(
    run(async (api, out, o: { key: string }) => {
      await api.request('DELETE', `/v3.0/OS-CREDENTIAL/credentials/${enc(o.key)}`);
      out('access key deleted');
    }),
  );
}
