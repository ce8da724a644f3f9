/**
 * Exit codes of `openstage` (docs/cli.md): what a script may rely on.
 * 0 done; 1 the server refused or the operation failed (a failed job included); 2 bad usage;
 * 3 not logged in, or the credentials were refused; 4 no such resource; 5 the server
 * could not be reached; 6 a wait ran out of time (the operation may still finish).
 */
export const EXIT = Object.freeze({ ok: 0, failed: 1, usage: 2, auth: 3, notFound: 4, unreachable: 5, timeout: 6 });

/** An error the CLI reports in one line on stderr, exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A bad argument or option value (exit 2). */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT.usage);
}

/** No resource by that name or id (exit 4). */
export function notFound(what: string): CliError {
  return new CliError(`${what} not found`, EXIT.notFound);
}
