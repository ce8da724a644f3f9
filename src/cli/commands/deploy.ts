import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { CliError, EXIT, usageError } from '../errors.js';
import { componentPath, findEnvironment, listApplications, listComponents, replicaUrls, waitJob } from '../lookup.js';
import { print, progress } from '../output.js';
import type { Session } from '../session.js';
import { createLocalEnvironment } from './resources.js';
import type { WithSession } from './types.js';

const execFileAsync = promisify(execFile);

interface DeployOptions {
  name?: string;
  app?: string;
  env: string;
  stack?: string;
  version?: string;
  replicas?: string;
  setEnv: string[];
  health?: string;
  wait: boolean;
  timeout: string;
}

/** What a directory holds, and the system runtime stack that builds it. */
export function detectStack(dir: string): string | undefined {
  const has = (f: string): boolean => existsSync(join(dir, f));
  if (has('package.json')) return 'Nodejs20';
  if (has('pom.xml')) return /<packaging>\s*war\s*<\/packaging>/.test(readFileSync(join(dir, 'pom.xml'), 'utf8')) ? 'Tomcat10-OpenJDK17' : 'OpenJDK17';
  if (has('go.mod')) return 'Go1';
  if (has('requirements.txt') || has('pyproject.toml') || has('setup.py') || has('main.py') || has('app.py')) return 'Python3';
  if (has('Dockerfile')) return 'Docker';
  return undefined;
}

/** A resource name (letters, digits, `-`, `_`; starts with a letter, 2–64) made from `raw`. */
export function resourceName(raw: string): string {
  let name = raw.replace(/^@[^/]+\//, '').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^[^A-Za-z]+/, '').replace(/[^A-Za-z0-9]+$/, '').slice(0, 64);
  if (name.length < 2) name = `app-${name || 'x'}`;
  return name;
}

/** The component name a directory suggests: its package's name, else the folder's. */
function nameOf(dir: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
    if (pkg.name) return resourceName(pkg.name);
  } catch {
    // no package.json: the folder's name
  }
  const artifact = existsSync(join(dir, 'pom.xml')) ? /<artifactId>([^<]+)<\/artifactId>/.exec(readFileSync(join(dir, 'pom.xml'), 'utf8').replace(/<parent>[\s\S]*?<\/parent>/, ''))?.[1] : undefined;
  return resourceName(artifact ?? basename(resolve(dir)));
}

/** The next version: the last number moved on (1.0.0 → 1.0.1, 1.2.3.4 → 1.2.3.5). */
export function nextVersion(version: string): string {
  const parts = version.split('.');
  const last = Number(parts[parts.length - 1]);
  if (!Number.isInteger(last)) return '1.0.0';
  parts[parts.length - 1] = String(last + 1);
  return parts.join('.');
}

/** Left out of every push besides the directory's own .gitignore (and its .openstageignore). */
const DEFAULT_EXCLUDES = ['node_modules/', 'target/', '__pycache__/', '.venv/', '*.log', '.openstage/'];

/**
 * Commits the directory's files (its .gitignore and .openstageignore honoured) in a
 * throw-away repository and pushes it to `cloneUrl` as `main` and as tag `tag`, the
 * credentials in git's environment config (never in argv). @returns the commit sha
 */
async function pushDirectory(dir: string, cloneUrl: string, tag: string, credentials: { user: string; token: string }): Promise<string> {
  const gitDir = mkdtempSync(join(tmpdir(), 'openstage-deploy-'));
  try {
    const env = {
      ...process.env,
      GIT_DIR: gitDir,
      GIT_WORK_TREE: dir,
      GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: process.env.GIT_AUTHOR_NAME || 'openstage deploy',
      GIT_AUTHOR_EMAIL: process.env.GIT_AUTHOR_EMAIL || 'deploy@openstage.local',
      GIT_COMMITTER_NAME: process.env.GIT_COMMITTER_NAME || 'openstage deploy',
      GIT_COMMITTER_EMAIL: process.env.GIT_COMMITTER_EMAIL || 'deploy@openstage.local',
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`${credentials.user}:${credentials.token}`).toString('base64')}`,
    };
    const git = async (...args: string[]): Promise<string> => {
      try {
        return (await execFileAsync('git', args, { env, maxBuffer: 64 * 1024 * 1024 })).stdout;
      } catch (err) {
        const e = err as { code?: string; stderr?: string };
        if (e.code === 'ENOENT') throw new CliError('git is needed by openstage deploy: install it');
        throw new CliError(`git ${args[0]} failed: ${(e.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
      }
    };
    await git('init', '--quiet');
    const ignore = existsSync(join(dir, '.openstageignore')) ? readFileSync(join(dir, '.openstageignore'), 'utf8') : '';
    writeFileSync(join(gitDir, 'info', 'exclude'), `${DEFAULT_EXCLUDES.join('\n')}\n${ignore}\n`);
    await git('add', '--all');
    await git('commit', '--quiet', '--allow-empty', '-m', `openstage deploy ${tag}`);
    const sha = (await git('rev-parse', 'HEAD')).trim();
    await git('push', '--quiet', '--force', cloneUrl, 'HEAD:refs/heads/main', `HEAD:refs/tags/${tag}`);
    return sha;
  } finally {
    rmSync(gitDir, { recursive: true, force: true });
  }
}

/**
 * The git authorization deploys push with: the context's (a `local` personal token the CLI
 * made), else a new one, saved in the context when there is one.
 */
async function gitAuthorization(s: Session, gitBase: string): Promise<{ auth: string; token: string }> {
  const saved = s.context?.git;
  const existing: { name: string }[] = (await s.api.get(`${gitBase}/auths`)).body.authorizations ?? [];
  if (saved && existing.some((a) => a.name === saved.auth)) return saved;
  const created = { auth: `openstage-cli-${randomBytes(4).toString('hex')}`, token: randomBytes(24).toString('base64url') };
  await s.api.request('POST', `${gitBase}/auths/local/personal`, { body: { name: created.auth, token: created.token } });
  if (s.context) s.saveContext((c) => void (c.git = created));
  else progress(`note: git authorization ${created.auth} made for this deploy; log in (openstage login) to reuse it next time`);
  return created;
}

/** `openstage deploy [DIR]`: cf-push style deployment of a local directory. */
export function deployCommand(program: Command, withSession: WithSession): void {
  program
    .command('deploy [dir]')
    .description('deploy a directory: push it to a repository hosted by OpenStage, create or upgrade the component (and its application and environment), follow the job, print its URL')
    .option('--name <component>', "component name (default: the package's name, else the folder's)")
    .option('--app <name>', 'application (default: the component name); created when missing')
    .option('--env <name>', 'environment; created and bound to this machine when missing', 'dev')
    .option('--stack <name>', 'runtime stack (default: detected: Nodejs20, OpenJDK17, Tomcat10-OpenJDK17, Go1, Python3)')
    .option('--version <version>', 'version to deploy (default: 1.0.0, then the last number moved on at each deploy)')
    .option('--replicas <n>', 'replica count (default: 1, then kept)')
    .option('--set-env <NAME=VALUE>', 'an environment variable of the component (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--health <path>', 'HTTP readiness probe path, e.g. /health')
    .option('--no-wait', 'return once the deployment job is submitted')
    .option('--timeout <seconds>', 'longest wait for the job', '1800')
    .addHelpText('after', '\nFiles are taken as git would (.gitignore), less node_modules/, target/, __pycache__/, .venv/, *.log and the patterns of .openstageignore.\nThe URL printed is a replica\'s address on the server\'s host.')
    .action(
      withSession(async (s, dirArg: string | undefined, o: DeployOptions) => {
        const dir = resolve(dirArg ?? '.');
        if (!existsSync(dir) || !statSync(dir).isDirectory()) throw usageError(`not a directory: ${dir}`);
        if (readdirSync(dir).length === 0) throw usageError(`${dir} is empty`);
        const stackName = o.stack ?? detectStack(dir);
        if (!stackName) throw usageError(`cannot tell how to build ${dir} (no package.json, pom.xml, go.mod or requirements.txt): give --stack`);
        const name = o.name ?? nameOf(dir);
        const appName = o.app ?? name;
        const replicas = o.replicas === undefined ? undefined : Number(o.replicas);
        if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 1 || replicas > 100)) throw usageError('--replicas must be 1 to 100');
        const envs = o.setEnv.map((kv) => {
          const i = kv.indexOf('=');
          if (i < 1) throw usageError(`--set-env ${kv}: expected NAME=VALUE`);
          return { name: kv.slice(0, i), value: kv.slice(i + 1) };
        });
        const project = await s.project();
        const stacks: any[] = (await s.api.get(await s.cas('/runtimestacks'))).body.runtime_stacks;
        const stack = stacks.find((x) => x.name === stackName);
        if (!stack) throw usageError(`no runtime stack named ${stackName} (openstage stack list)`);

        // The environment and application, made when missing.
        let env = await findEnvironment(s, o.env);
        if (!env) {
          env = await createLocalEnvironment(s, o.env);
          progress(`environment ${o.env} created (this machine and the built-in engine bound)`);
        }
        let app = (await listApplications(s)).find((a) => a.name === appName || a.id === appName);
        if (!app) {
          app = (await s.api.request('POST', await s.cas('/applications'), { body: { name: appName } })).body;
          progress(`application ${appName} created`);
        }
        const existing = (await listComponents(s, app.id)).find((c) => c.name === name && c.environment_id === env.id);
        const current = existing ? (await s.api.get(await s.cas(componentPath(existing)))).body : undefined;
        const version = o.version ?? (current ? nextVersion(String(current.version)) : '1.0.0');

        // The source: a repository hosted by OpenStage (namespace = application), pushed as tag v<version>.
        const gitBase = `/v1/${project}/git`;
        const auth = await gitAuthorization(s, gitBase);
        const headers = { 'x-repo-auth': auth.auth };
        // A namespace that does not exist yet answers 404: it is made with its first repository.
        const repos = await s.api.get(`${gitBase}/repos/${encodeURIComponent(app.name)}/projects`, { headers }).then(
          (r) => (r.body?.projects ?? []) as any[],
          (err: unknown) => {
            if (err instanceof CliError && err.exitCode === EXIT.notFound) return [];
            throw err;
          },
        );
        let repo = repos.find((p) => p.name === name);
        if (!repo) repo = (await s.api.request('POST', `${gitBase}/repos/${encodeURIComponent(app.name)}/projects`, { headers, body: { name } })).body;
        const tag = `v${version}`;
        progress(`pushing ${dir} to ${repo.clone_url} (${tag})`);
        const sha = await pushDirectory(dir, repo.clone_url, tag, { user: auth.auth, token: auth.token });

        const source = { kind: 'code', repo_url: repo.clone_url, repo_ref: tag, repo_auth: auth.auth };
        let componentId: string;
        let jobId: string;
        if (current) {
          const body: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(current)) if (!['id', 'status', 'application_id', 'application_name', 'environment_name'].includes(k)) body[k] = v;
          Object.assign(body, { source, version, ...(replicas !== undefined ? { replica: replicas } : {}), ...(envs.length ? { envs } : {}), ...(o.health ? { readiness_probe: { type: 'http', path: o.health } } : {}) });
          const r = (await s.api.request('PUT', await s.cas(componentPath(existing)), { body })).body;
          componentId = r.component_id;
          jobId = r.job_id;
          progress(`upgrading component ${name} to ${version} (job ${jobId})`);
        } else {
          const body = {
            name,
            runtime_stack: { name: stack.name, type: stack.type, version: stack.version, deploy_mode: stack.deploy_mode },
            source,
            version,
            replica: replicas ?? 1,
            environment_id: env.id,
            refer_resources: [],
            ...(envs.length ? { envs } : {}),
            ...(o.health ? { readiness_probe: { type: 'http', path: o.health } } : {}),
          };
          const r = (await s.api.request('POST', await s.cas(`/applications/${app.id}/components`), { body })).body;
          componentId = r.component_id;
          jobId = r.job_id;
          progress(`creating component ${name} ${version} from ${stack.name} (job ${jobId})`);
        }
        if (o.wait) await waitJob(s, jobId, { timeoutSeconds: Number(o.timeout) });
        const view = (await s.api.get(await s.cas(`/applications/${app.id}/components/${componentId}`))).body;
        const urls = o.wait ? replicaUrls(s, view.status) : [];
        print(s.format, { component_id: componentId, application_id: app.id, environment_id: env.id, job_id: jobId, version, commit: sha, status: view.status?.component_status, urls }, () =>
          o.wait ? `${name} ${version} is ${view.status?.component_status}${urls.length ? `\nurl: ${urls.join(' ')}` : ''}` : `job ${jobId} submitted (openstage job wait ${jobId})`,
        );
      }),
    );
}
