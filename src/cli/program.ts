import { Command, CommanderError, Option } from 'commander';
import { VERSION } from '../version.js';
import { adminCommands } from './admin.js';
import { componentCommands } from './commands/component.js';
import { deployCommand } from './commands/deploy.js';
import { engineCommands } from './commands/engine.js';
import { kvCommands } from './commands/kv.js';
import { loginCommands } from './commands/login.js';
import { registryCommands } from './commands/registry.js';
import { resourceCommands } from './commands/resources.js';
import { CliError, EXIT } from './errors.js';
import { serveCommand } from './serve.js';
import { Session, type GlobalOptions } from './session.js';
import type { WithSession } from './commands/types.js';

/**
 * Wraps a command's action: opens the session (server, credentials, project, output format)
 * from the global options and hands it over with the command's arguments.
 */
export const withSession: WithSession = <A extends unknown[]>(fn: (session: Session, ...args: A) => Promise<void>): ((...args: A) => Promise<void>) => {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    await fn(Session.open(cmd.optsWithGlobals<GlobalOptions>()), ...args);
  };
};

/** The whole `openstage` command tree. */
export function buildProgram(): Command {
  const program = new Command('openstage')
    .description('OpenStage: the server (openstage serve) and its command-line client')
    .version(VERSION, '-V, --version')
    .option('--context <name>', 'the saved login to use (OPENSTAGE_CONTEXT; default the current one)')
    .option('--url <url>', 'server URL (OPENSTAGE_URL; default the context\'s, else http://127.0.0.1:30100)')
    .option('--project <id-or-name>', 'IAM project of ServiceStage calls (OPENSTAGE_PROJECT; default the context\'s)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table'))
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Exit codes: 0 done, 1 refused or failed (a failed job too), 2 bad usage, 3 not logged in or
credentials refused, 4 not found, 5 server unreachable, 6 timed out waiting.
Start with: openstage serve, then openstage login, then openstage deploy ./my-app`,
    );
  program.exitOverride();
  serveCommand(program);
  loginCommands(program, withSession);
  resourceCommands(program, withSession);
  deployCommand(program, withSession);
  componentCommands(program, withSession);
  registryCommands(program, withSession);
  kvCommands(program, withSession);
  engineCommands(program, withSession);
  adminCommands(program);
  for (const cmd of allCommands(program)) cmd.exitOverride();
  return program;
}

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/**
 * Runs the CLI on `argv` (without node and the script). @returns the exit code: commander's
 * usage errors are 2, help and version 0, CliErrors their own, anything else 1.
 */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help, version, and a bare group command (`openstage kv`) print their text and succeed.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      if (err.code === 'commander.executeSubCommandAsync') return EXIT.failed;
      return EXIT.usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`openstage: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`openstage: ${(err as Error)?.message ?? String(err)}\n`);
    if (process.env.OPENSTAGE_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return EXIT.failed;
  }
}
