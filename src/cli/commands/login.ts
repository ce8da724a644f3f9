import type { Command } from 'commander';
import { Api, listProjects } from '../client.js';
import { writeCliConfig, type Context, type ContextAuth } from '../context.js';
import { CliError, EXIT, notFound, usageError } from '../errors.js';
import { printList } from '../output.js';
import { DEFAULT_URL, isProjectId, Session, type GlobalOptions } from '../session.js';
import type { WithSession } from './types.js';

interface LoginOptions {
  user?: string;
  password?: string;
  passwordStdin?: boolean;
  domain: string;
  accessKey?: string;
  secretKey?: string;
  name?: string;
}

/** Reads all of stdin (for --password-stdin), without its last newline. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Asks for a password on the terminal without echoing it. */
async function promptPassword(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) throw usageError('no password: give --password, --password-stdin or OPENSTAGE_PASSWORD');
  process.stderr.write(prompt);
  process.stdin.setRawMode(true);
  process.stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (data: Buffer): void => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          finish();
          return resolve(value);
        }
        if (ch === '\u0003') {
          finish();
          return reject(new CliError('cancelled', EXIT.failed));
        }
        value = ch === '\u007f' ? value.slice(0, -1) : value + ch;
      }
    };
    const finish = (): void => {
      process.stdin.off('data', onData);
      process.stdin.setRawMode(false);
      process.stdin.pause();
      process.stderr.write('\n');
    };
    process.stdin.on('data', onData);
  });
}

/** A Keystone scope: a project by id or by name in the user's domain. */
function projectScope(project: string, domain: string): Record<string, unknown> {
  return isProjectId(project) ? { project: { id: project } } : { project: { name: project, domain: { name: domain } } };
}

/** POST /v3/auth/tokens with a password. @returns the token, its expiry and the project it is scoped to */
async function passwordToken(api: Api, user: string, password: string, domain: string, scope: Record<string, unknown>): Promise<{ token: string; expiresAt: string; project?: { id: string; name: string } }> {
  const r = await api.request('POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: user, password, domain: { name: domain } } } }, scope } } });
  const token = r.headers.get('x-subject-token');
  if (!token) throw new CliError('the server answered the login without a token');
  return { token, expiresAt: r.body.token.expires_at, ...(r.body.token.project ? { project: { id: r.body.token.project.id, name: r.body.token.project.name } } : {}) };
}

/** The project to work in: the one asked for, else the only one, else the one named `default`. */
function chooseProject(projects: { id: string; name: string }[], wanted: string | undefined): { id: string; name: string } {
  if (wanted) {
    const found = projects.find((p) => p.id === wanted || p.name === wanted);
    if (!found) throw notFound(`project ${wanted}`);
    return found;
  }
  const chosen = projects.length === 1 ? projects[0] : projects.find((p) => p.name === 'default');
  if (!chosen) throw usageError(`choose a project with --project: ${projects.map((p) => `${p.name} (${p.id})`).join(', ') || 'none is visible to this user'}`);
  return chosen;
}

/** `openstage login`, `logout` and `context list|use|delete`. */
export function loginCommands(program: Command, withSession: WithSession): void {
  program
    .command('login [url]')
    .description('log in to a server and save it as a context (mode 0600): an IAM user and password, an AK/SK pair, or nothing for a server run with --auth none')
    .option('--user <name>', 'IAM user name (with --password, --password-stdin, OPENSTAGE_PASSWORD or a prompt)')
    .option('--password <password>', 'the password (visible in the process list: prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--domain <name>', 'the user\'s account (domain) name', 'openstage')
    .option('--access-key <ak>', 'log in with an access key instead')
    .option('--secret-key <sk>', 'the secret key of --access-key')
    .option('--name <context>', 'name of the saved context (default: the server\'s host:port)')
    .addHelpText('after', '\nThe file is OPENSTAGE_CLI_CONFIG, else ~/.config/openstage/config.yaml. A password is never saved: the token (24 h) is.')
    .action(async (url: string | undefined, o: LoginOptions, cmd: Command) => {
        const globals = cmd.optsWithGlobals<GlobalOptions>();
        // The context being saved may not exist yet: it is not opened.
        const session = Session.open({ ...globals, context: undefined }, { ...process.env, OPENSTAGE_CONTEXT: '' });
        const current = session.config.current ? session.config.contexts[session.config.current] : undefined;
        const base = (url ?? globals.url ?? (session.env.OPENSTAGE_URL || undefined) ?? current?.url ?? DEFAULT_URL).replace(/\/+$/, '');
        try {
          new URL(base);
        } catch {
          throw usageError(`not a URL: ${base}`);
        }
        const wanted = globals.project ?? (session.env.OPENSTAGE_PROJECT || undefined);
        let auth: ContextAuth;
        let project: { id: string; name: string };
        if (o.accessKey || o.secretKey) {
          if (!o.accessKey || !o.secretKey) throw usageError('--access-key and --secret-key go together');
          auth = { type: 'aksk', accessKey: o.accessKey, secretKey: o.secretKey };
          project = chooseProject(await listProjects(new Api({ url: base, auth })), wanted);
        } else if (o.user) {
          const password = o.password ?? (o.passwordStdin ? await readStdin() : session.env.OPENSTAGE_PASSWORD || (await promptPassword(`password of ${o.user}: `)));
          const api = new Api({ url: base, auth: { type: 'none' } });
          // A domain-scoped token lists the user's projects; the saved token is scoped to the chosen one.
          let scoped = wanted ? await passwordToken(api, o.user, password, o.domain, projectScope(wanted, o.domain)) : undefined;
          if (!scoped) {
            const first = await passwordToken(api, o.user, password, o.domain, { domain: { name: o.domain } });
            const chosen = chooseProject(await listProjects(new Api({ url: base, auth: { type: 'token', user: o.user, token: first.token, expiresAt: first.expiresAt } })), undefined);
            scoped = await passwordToken(api, o.user, password, o.domain, { project: { id: chosen.id } });
          }
          if (!scoped.project) throw new CliError('the server answered the login without a project');
          project = scoped.project;
          auth = { type: 'token', user: o.user, token: scoped.token, expiresAt: scoped.expiresAt };
        } else {
          auth = { type: 'none' };
          let projects;
          try {
            projects = await listProjects(new Api({ url: base, auth }));
          } catch (err) {
            if (err instanceof CliError && err.exitCode === EXIT.auth) throw new CliError(`${base} wants credentials: --user NAME or --access-key AK --secret-key SK`, EXIT.auth);
            throw err;
          }
          project = chooseProject(projects, wanted);
        }
        const name = o.name ?? globals.context ?? new URL(base).host;
        const previous = session.config.contexts[name];
        const context: Context = { url: base, project: project.id, projectName: project.name, auth, ...(previous?.git && previous.url === base && previous.project === project.id ? { git: previous.git } : {}) };
        session.config.contexts[name] = context;
        session.config.current = name;
        writeCliConfig(session.path, session.config);
        const who = auth.type === 'token' ? `as ${auth.user}` : auth.type === 'aksk' ? `with access key ${auth.accessKey}` : 'without credentials';
        process.stderr.write(`logged in to ${base} ${who}, project ${project.name} (${project.id}); context "${name}" saved in ${session.path}\n`);
      });

  program
    .command('logout')
    .description("revoke the current context's token and forget its credentials (the context stays)")
    .action(
      withSession(async (session) => {
        const c = session.context;
        if (!c) throw new CliError('no context in use', EXIT.auth);
        if (c.auth.type === 'token' && Date.parse(c.auth.expiresAt) > Date.now()) {
          await session.api.request('DELETE', '/v3/auth/tokens', { headers: { 'x-subject-token': c.auth.token } }).catch(() => undefined);
        }
        session.saveContext((ctx) => {
          ctx.auth = { type: 'none' };
        });
        process.stderr.write(`logged out of ${c.url}\n`);
      }),
    );

  const context = program.command('context').description('saved logins (contexts)');
  context
    .command('list')
    .description('list the contexts; * marks the current one')
    .action(
      withSession(async (session) => {
        const rows = Object.entries(session.config.contexts).map(([name, c]) => ({ current: name === session.config.current, name, url: c.url, project: c.project, project_name: c.projectName ?? '', auth: c.auth.type === 'token' ? `token of ${c.auth.user} until ${c.auth.expiresAt}` : c.auth.type === 'aksk' ? `AK ${c.auth.accessKey}` : 'none' }));
        printList(session.format, rows, [
          { header: '', get: (r) => (r.current ? '*' : ' ') },
          { header: 'NAME', get: (r) => r.name },
          { header: 'URL', get: (r) => r.url },
          { header: 'PROJECT', get: (r) => `${r.project_name} (${r.project})` },
          { header: 'AUTH', get: (r) => r.auth },
        ]);
      }),
    );
  context
    .command('use <name>')
    .description('make a context the current one')
    .action(
      withSession(async (session, name: string) => {
        if (!session.config.contexts[name]) throw notFound(`context ${name}`);
        session.config.current = name;
        writeCliConfig(session.path, session.config);
      }),
    );
  context
    .command('delete <name>')
    .description('forget a context and its credentials')
    .action(
      withSession(async (session, name: string) => {
        if (!session.config.contexts[name]) throw notFound(`context ${name}`);
        delete session.config.contexts[name];
        if (session.config.current === name) delete session.config.current;
        writeCliConfig(session.path, session.config);
      }),
    );
}
