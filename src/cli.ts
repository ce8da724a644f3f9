#!/usr/bin/env node
import { runCli } from './cli/program.js';

// `openstage serve | login | deploy | …`: the command tree is in src/cli/ (docs/cli.md).
runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`openstage: ${(err as Error)?.message ?? String(err)}\n`);
    process.exit(1);
  },
);
