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
