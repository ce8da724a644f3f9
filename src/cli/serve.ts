import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../core/config.js';
import type { BootstrapReport } from '../iam/service.js';
import { CliError, EXIT } from './errors.js';
import { DEFAULT_URL } from './session.js';

/** Host variables the deployment engine passes to every build and replica (tool paths, caches). */
const HOST_ENV_KEYS = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'JAVA_HOME', 'MAVEN_HOME', 'M2_HOME', 'CATALINA_HOME', 'GOPATH', 'GOROOT', 'GOCACHE', 'GOMODCACHE', 'GOPROXY', 'npm_config_cache', 'NODE_EXTRA_CA_CERTS', 'PIP_INDEX_URL', 'PIP_CACHE_DIR', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];

/** The HOST_ENV_KEYS set in `env`. */
function hostEnvOf(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of HOST_ENV_KEYS) if (env[k] !== undefined) out[k] = env[k];
  return out;
}

interface ServeOptions {
  host?: string;
  port?: string;
  dataDir?: string;
  db?: string;
  config?: string;
  logLevel?: string;
  auth?: string;
  rbac?: boolean;
}

/** `openstage serve`: the server itself. */
export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('run the OpenStage server (every API on one port) until SIGTERM or SIGINT')
    .option('--host <address>', 'address to listen on (OPENSTAGE_HOST; default 127.0.0.1)')
    .option('--port <port>', 'TCP port, 0 picks one (OPENSTAGE_PORT; default 30100)')
    .option('--data-dir <dir>', 'embedded database and state (OPENSTAGE_DATA_DIR; default ./data)')
    .option('--db <db>', 'sqlite or a postgres:// URL (OPENSTAGE_DB; default sqlite)')
    .option('--config <file>', 'a YAML configuration file, see openstage.example.yaml (OPENSTAGE_CONFIG)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (OPENSTAGE_LOG_LEVEL; default info)')
    .option('--auth <mode>', 'iam, or none to open the Huawei-style APIs for local development (OPENSTAGE_AUTH)')
    .option('--rbac', 'engine RBAC: registry and config center calls need a token (OPENSTAGE_RBAC)')
    .addHelpText('after', '\nEvery other setting: docs/config.md (OPENSTAGE_<SECTION>_<KEY>). Logs are pretty-printed on a terminal, JSON lines otherwise.')
    .action(async (options: ServeOptions) => {
      process.exitCode = await serve(options);
    });
}

/** Loads the configuration, builds the server, listens and stops on SIGTERM/SIGINT. @returns the exit code */
async function serve(values: ServeOptions): Promise<number> {
  const flags: Record<string, string> = {};
  if (values.host !== undefined) flags.host = values.host;
  if (values.port !== undefined) flags.port = values.port;
  if (values.dataDir !== undefined) flags.dataDir = values.dataDir;
  if (values.db !== undefined) flags.db = values.db;
  if (values.logLevel !== undefined) flags.logLevel = values.logLevel;
  if (values.auth !== undefined) flags.auth = values.auth;
  if (values.rbac) flags['rbac.enabled'] = 'true';
  let server: import('../server.js').OpenStage | undefined;
  // SIGTERM/SIGINT are taken from the start: one that arrives while the server starts (its port
  // may already answer while it joins the cluster) stops it once it is up, never mid-start.
  let signalled: string | undefined;
  let onSignal: ((signal: string) => void) | undefined;
  const take = (signal: string): void => (onSignal ? onSignal(signal) : void (signalled = signal));
  process.once('SIGTERM', () => take('SIGTERM'));
  process.once('SIGINT', () => take('SIGINT'));
  try {
    const file = values.config ?? process.env.OPENSTAGE_CONFIG;
    let config = loadConfig({ file, env: process.env, flags });
    // The config file may hold secrets (passwords, keys): no build or replica may read it.
    if (file) config = { ...config, deploy: { ...config.deploy, sandboxHide: [...config.deploy.sandboxHide, file] } };
    // The server's modules load only here: the client commands start without them.
    const { buildServer } = await import('../server.js');
    server = await buildServer(config, {
      hostEnv: hostEnvOf(process.env),
      prettyLogs: process.stdout.isTTY === true,
      // A server that can no longer follow the others (it fell behind the retained change
      // log) stops; started again it reloads everything.
      onFatal: (err) => {
        process.stderr.write(`openstage: ${err.message}\n`);
        process.exit(1);
      },
    });
    const url = await server.listen(config.host, config.port);
    printBootstrap(server.bootstrap, url);
    server.app.log.info({ url, db: server.db.dialect, dataDir: config.dataDir }, `openstage listening on ${url}`);
  } catch (err) {
    // A setting only the database can judge (the RBAC root account) stops the start the same way.
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage);
    await server?.close();
    throw err;
  }
  const running = server;
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      running.app.log.info({ signal }, 'stopping');
      running.close().then(
        () => {
          running.app.log.info('stopped');
          resolve();
        },
        (err: unknown) => {
          running.app.log.error({ err }, 'error while stopping');
          resolve();
        },
      );
    };
    if (signalled) stop(signalled);
    else onSignal = stop;
  });
  return 0;
}

/**
 * Shows generated credentials once, on stdout, never through the logger. `url` is the address
 * the server listens at; the login hint names it unless it is the CLI's default (DEFAULT_URL).
 */
export function printBootstrap(report: BootstrapReport, url: string): void {
  if (!report.adminPassword && !report.secretKey) return;
  const lines = ['', 'OpenStage generated credentials (shown once; store them now):'];
  if (report.adminPassword) lines.push(`  admin user:      ${report.adminName}`, `  admin password:  ${report.adminPassword}`);
  lines.push(`  project id:      ${report.projectId} (${report.projectName})`);
  if (report.secretKey) lines.push(`  access key (AK): ${report.accessKey}`, `  secret key (SK): ${report.secretKey}`);
  const target = url === DEFAULT_URL ? '' : ` ${url}`;
  lines.push(`  log the CLI in with: openstage login${target} --user admin   (or --access-key AK --secret-key SK)`);
  process.stdout.write(`${lines.join('\n')}\n\n`);
}
