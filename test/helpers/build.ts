import { runLogged, type Runner } from '../../src/deploy/build/run.js';

/**
 * Runs build commands unconfined, for the unit tests of the stacks' builds and of source
 * fetches (confinement itself is tested through the server in test/deploy/sandbox.test.ts).
 */
export function plainRunner(dir: string, env: Record<string, string>, logFile: string, signal: AbortSignal): Runner {
  return (command, args, o = {}) => runLogged(command, args, { cwd: o.cwd ?? dir, env: { ...env, ...(o.env ?? {}) }, logFile, signal, ...(o.captureStdout ? { captureStdout: true } : {}) });
}
