import { Api, listProjects, type Target } from './client.js';
import { configPath, pickContext, readCliConfig, writeCliConfig, type CliConfig, type Context, type ContextAuth } from './context.js';
import { notFound } from './errors.js';
import { outputFormat, type OutputFormat } from './output.js';

/** Options every command takes (set before or after the command's own). */
export interface GlobalOptions {
  context?: string;
  url?: string;
  project?: string;
  output?: string;
}

/** The default server: the one `npm start` runs. */
export const DEFAULT_URL = 'http://127.0.0.1:30100';

/** Everything a command needs: the API client, the output format and the CLI's file. */
export class Session {
  readonly api: Api;
  readonly format: OutputFormat;

  private constructor(
    readonly env: NodeJS.ProcessEnv,
    readonly path: string,
    readonly config: CliConfig,
    readonly contextName: string | undefined,
    target: Target,
    format: OutputFormat,
  ) {
    this.api = new Api(target);
    this.format = format;
  }

  /**
   * Resolves where and as whom to call. Server: --url, OPENSTAGE_URL, the context, the
   * default. Credentials: OPENSTAGE_TOKEN, OPENSTAGE_ACCESS_KEY + OPENSTAGE_SECRET_KEY, else
   * the context's (only when the server is the context's, so they never go elsewhere).
   * Project: --project, OPENSTAGE_PROJECT, the context's, else looked up.
   * @throws CliError for an unknown --context or --output
   */
  static open(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Session {
    const path = configPath(env);
    const config = readCliConfig(path);
    const format = outputFormat(options.output);
    const picked = pickContext(config, options.context ?? (env.OPENSTAGE_CONTEXT || undefined));
    const url = options.url ?? (env.OPENSTAGE_URL || undefined) ?? picked?.context.url ?? DEFAULT_URL;
    const sameServer = picked !== undefined && sameUrl(picked.context.url, url);
    let auth: ContextAuth = { type: 'none' };
    if (env.OPENSTAGE_TOKEN) auth = { type: 'token', user: 'OPENSTAGE_TOKEN', token: env.OPENSTAGE_TOKEN, expiresAt: '9999-12-31T00:00:00Z' };
    else if (env.OPENSTAGE_ACCESS_KEY && env.OPENSTAGE_SECRET_KEY) auth = { type: 'aksk', accessKey: env.OPENSTAGE_ACCESS_KEY, secretKey: env.OPENSTAGE_SECRET_KEY };
    else if (sameServer) auth = picked.context.auth;
    const project = options.project ?? (env.OPENSTAGE_PROJECT || undefined) ?? (sameServer ? picked.context.project : undefined);
    const target: Target = { url, auth, ...(project && isProjectId(project) ? { project } : {}) };
    const session = new Session(env, path, config, sameServer ? picked.name : undefined, target, format);
    if (project && !isProjectId(project)) session.projectName = project;
    return session;
  }

  /** A project given by name (--project default): resolved to its id on first use. */
  private projectName?: string;

  /** The IAM project id, resolving a --project name once. @throws CliError exit 4 for an unknown name */
  async project(): Promise<string> {
    if (this.projectName) {
      const name = this.projectName;
      this.projectName = undefined;
      const found = (await listProjects(this.api)).find((p) => p.name === name || p.id === name);
      if (!found) throw notFound(`project ${name}`);
      this.api.useProject(found.id);
      return found.id;
    }
    return this.api.project();
  }

  /** `/v3/{project}/cas` + path. */
  async cas(path: string): Promise<string> {
    return `/v3/${await this.project()}/cas${path}`;
  }

  /** The context in use (its server is the one called), if any. */
  get context(): Context | undefined {
    return this.contextName ? this.config.contexts[this.contextName] : undefined;
  }

  /** Changes the context in use and writes the file (0600). */
  saveContext(change: (c: Context) => void): void {
    const c = this.context;
    if (!c || !this.contextName) return;
    change(c);
    writeCliConfig(this.path, this.config);
  }
}

/** True for an IAM project id (32 hex characters) rather than a name. */
export function isProjectId(value: string): boolean {
  return /^[0-9a-f]{32}$/.test(value);
}

function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}
