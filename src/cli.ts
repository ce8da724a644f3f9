#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './core/config.js';
import type { BootstrapReport } from './iam/service.js';
import { ADMIN_USAGE, runAdminCommand } from './cli-admin.js';
import { buildServer } from './server.js';

const USAGE = `usage: openstage serve [--host H] [--port P] [--data-dir DIR] [--db sqlite|postgres://...] [--config FILE] [--log-level L] [--auth iam|none] [--rbac]
${ADMIN_USAGE}`;

/** Host variables the deployment engine passes to every build and replica (tool paths, caches). */
const HOST_ENV_KEYS = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'JAVA_HOME', 'MAVEN_HOME', 'M2_HOME', 'CATALINA_HOME', 'GOPATH', 'GOROOT', 'GOCACHE', 'GOMODCACHE', 'GOPROXY', 'npm_config_cache', 'NODE_EXTRA_CA_CERTS', 'PIP_INDEX_URL', 'PIP_CACHE_DIR', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];

/** The HOST_ENV_KEYS set in `env`. */
function hostEnvOf(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of HOST_ENV_KEYS) if (env[k] !== undefined) out[k] = env[k];
  return out;
}

/** `openstage serve`: parse flags, load config, build the server, listen, stop on SIGTERM/SIGINT. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'user' || command === 'project' || command === 'key') {
    try {
      return await runAdminCommand(argv, process.env);
    } catch (err) {
      process.stderr.write(`openstage: ${(err as Error).message}\n`);
      return 1;
    }
  }
  if (command !== 'serve') {
    process.stderr.write(`${USAGE}\n`);
    return command === undefined || command === '--help' || command === 'help' ? 0 : 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
    args: rest,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      db: { type: 'string' },
      config: { type: 'string' },
      'log-level': { type: 'string' },
      auth: { type: 'string' },
      rbac: { type: 'boolean' },
    },
    strict: true,
    });
  } catch (err) {
    process.stderr.write(`openstage: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values } = parsed;
  const flags: Record<string, string> = {};
  if (values.host !== undefined) flags.host = values.host;
  if (values.port !== undefined) flags.port = values.port;
  if (values['data-dir'] !== undefined) flags.dataDir = values['data-dir'];
  if (values.db !== undefined) flags.db = values.db;
  if (values['log-level'] !== undefined) flags.logLevel = values['log-level'];
  if (values.auth !== undefined) flags.auth = values.auth;
  if (values.rbac) flags['rbac.enabled'] = 'true';
  let config;
  try {
    config = loadConfig({ file: values.config ?? process.env.OPENSTAGE_CONFIG, env: process.env, flags });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`openstage: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  let server;
  try {
    server = await buildServer(config, {
      hostEnv: hostEnvOf(process.env),
      // A server that can no longer follow the others (it fell behind the retained change
      // log) stops; started again it reloads everything.
      onFatal: (err) => {
        process.stderr.write(`openstage: ${err.message}\n`);
        process.exit(1);
      },
    });
  } catch (err) {
    // A setting that only the database can judge (the RBAC root account) stops the start the same way.
    if (err instanceof ConfigError) {
      process.stderr.write(`openstage: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const url = await server.listen(config.host, config.port);
  printBootstrap(server.bootstrap);
  server.app.log.info({ url, db: server.db.dialect, dataDir: config.dataDir }, `openstage listening on ${url}`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      server.app.log.info({ signal }, 'stopping');
      server.close().then(() => {
        server.app.log.info('stopped');
        resolve();
      }, (err: unknown) => {
        server.app.log.error({ err }, 'error while stopping');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

/** Shows generated credentials once, on stdout, never through the logger. */
function printBootstrap(report: BootstrapReport): void {
  if (!report.adminPassword && !report.secretKey) return;
  const lines = ['', 'OpenStage generated credentials (shown once; store them now):'];
  if (report.adminPassword) lines.push(`  admin user:      ${report.adminName}`, `  admin password:  ${report.adminPassword}`);
  lines.push(`  project id:      ${report.projectId} (${report.projectName})`);
  if (report.secretKey) lines.push(`  access key (AK): ${report.accessKey}`, `  secret key (SK): ${report.secretKey}`);
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // A start that fails (database unreachable, data dir in use, bad URL) says why in one line.
    process.stderr.write(`openstage: ${(err as Error)?.message ?? String(err)}\n`);
    if (process.env.OPENSTAGE_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    process.exit(1);
  },
);

