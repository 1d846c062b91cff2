/*
 * Drizzle wraps driver errors (DrizzleQueryError with the pg error as `cause`), so a
 * SQLSTATE has to be looked for along the cause chain.
 */
export function findDatabaseError(error: unknown): (Error & { code?: string; constraint?: string }) | undefined {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    if (typeof (current as { code?: unknown }).code === 'string') return current as Error & { code?: string };
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The SQLSTATE (or Node socket code) of a database error, wherever it is wrapped. */
export function pgErrorCode(error: unknown): string | undefined {
  return findDatabaseError(error)?.code;
}

export const isUniqueViolation = (error: unknown) => pgErrorCode(error) === '23505';

/**
 * The database took too long: the server cancelled the statement (statement_timeout, SQLSTATE
 * 57014), or the client stopped waiting for an answer (pg's query_timeout: a frozen server or
 * network). Neither is our bug, and retrying at once would only wait as long again.
 */
export function isDatabaseTimeout(error: unknown): boolean {
  return pgErrorCode(error) === '57014' || isClientQueryTimeout(error);
}

/** pg gave up waiting (query_timeout): the connection may still carry the unanswered query. */
export function isClientQueryTimeout(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e.message === 'Query read timeout') return true;
  }
  return false;
}
