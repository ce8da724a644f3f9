/**
 * The one error type every area throws. `code` is the API's own error code (a ServiceComb
 * number such as 400012, or a Huawei string such as "SVCSTG.00100400"); `status` is the
 * HTTP status; `message` the fixed text clients know for the code; `detail` free text.
 * The area's wire formatter (src/core/wire/) turns it into that API's error body.
 */
export class OpenStageError extends Error {
  /** Seconds the client should wait before trying again (sent as `Retry-After`); 429s and lockouts set it. */
  retryAfterSeconds?: number;

  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'OpenStageError';
  }
}

/** Categories of failure and their HTTP statuses (STYLE.md §4). */
export const ErrorStatus = {
  InvalidArgument: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  AlreadyExists: 409,
  TooLarge: 413,
  Internal: 500,
  Unavailable: 503,
} as const;

/** Thrown by stores when a unique key is violated; services translate it to their own code. */
export class AlreadyExistsError extends Error {
  constructor(message = 'already exists') {
    super(message);
    this.name = 'AlreadyExistsError';
  }
}

/** True when a database driver error is a unique-constraint violation (SQLite or PostgreSQL). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  if (!e) return false;
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
