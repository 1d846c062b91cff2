import type pg from 'pg';
import type { Db } from './drizzle-types';
import { isClientQueryTimeout, pgErrorCode } from './errors';
import { executeWithRetry } from './retry';

/**
 * One business transaction and the effects it causes.
 *
 * Effects come in two kinds, and every module uses the same two:
 * - durable ones (a mail to send, a job to run, a push to deliver, an invalidation other
 *   instances must hear) are written *through `tx`/`query`*: an outbox row, a pg-boss job, a
 *   `pg_notify`. Postgres makes them exist exactly when the transaction commits, so a rollback
 *   leaves none and a crash right after COMMIT loses none.
 * - in-process ones (drop this instance's cached answer now, so the caller reads its own write)
 *   go to `afterCommit`: they run once COMMIT has succeeded, never after a rollback, and they
 *   may be lost with the process, which loses its cache with them.
 */
export interface UnitOfWork {
  /** Drizzle bound to the transaction's connection. */
  readonly tx: Db;
  /** A raw parametrised statement on the same connection (for libraries with their own SQL, e.g. pg-boss's transactional `send`). */
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  /** Runs after COMMIT; an effect that throws is logged, never turned into a failed request. */
  afterCommit(effect: () => void | Promise<void>): void;
}

interface TransactionOptions {
  /**
   * A `pg_advisory_xact_lock` key taken before `work` runs, sent with BEGIN in the same round
   * trip (a key is a number, so no parameter is needed). Every statement of `work` then starts
   * after the lock is held and sees what the previous holder committed.
   */
  advisoryLock?: bigint;
}

export interface TransactionRunner {
  /**
   * Runs `work` in one transaction on one pooled connection; commits when it resolves, rolls
   * back when it throws, then runs the `afterCommit` effects in order. A transient failure
   * before COMMIT (serialization failure, deadlock, a connection lost mid-work) runs `work`
   * again on a fresh connection: the failed attempt rolled back and recorded no effect, so
   * `work` must only avoid side effects outside the database.
   */
  transaction<T>(work: (unit: UnitOfWork) => Promise<T>, options?: TransactionOptions): Promise<T>;
}

// Marks a failure whose outcome is known to be "nothing committed" and that may pass.
class RetryableAttempt extends Error {
  constructor(readonly failure: unknown) {
    super((failure as Error)?.message);
  }
}

export function createTransactionRunner(options: {
  pool: pg.Pool;
  /** Drizzle over one checked-out client (same driver as the pool). */
  bind(client: pg.PoolClient): Db;
  onEffectError(error: unknown): void;
  /** Attempts in all for a transiently failing transaction (default 3). */
  maxAttempts?: number;
}): TransactionRunner {
  return {
    async transaction(work, transactionOptions = {}) {
      const begin = beginStatement(transactionOptions);
      try {
        return await executeWithRetry(() => attempt(work, begin), {
          maxAttempts: options.maxAttempts ?? 3,
          initialDelayMs: 20,
          maxDelayMs: 500,
          shouldRetry: (error) => error instanceof RetryableAttempt,
        });
      } catch (error) {
        throw error instanceof RetryableAttempt ? error.failure : error;
      }
    },
  };

  async function attempt<T>(work: (unit: UnitOfWork) => Promise<T>, begin: string): Promise<T> {
    // Not reaching the database at all is not retried here: the caller answers 503 at once.
    const client = await options.pool.connect();
    const effects: Array<() => void | Promise<void>> = [];
    let result: T;
    let failure: unknown;
    try {
      try {
        await client.query(begin);
        result = await work({
          tx: options.bind(client),
          query: (text, values) => client.query(text, values as unknown[]),
          afterCommit: (effect) => {
            effects.push(effect);
          },
        });
      } catch (error) {
        failure = error;
        // A connection whose query went unanswered is still waiting on it: a ROLLBACK would
        // only queue behind it. Discarding the connection (below) rolls back server-side.
        if (!isClientQueryTimeout(error)) await client.query('ROLLBACK').catch(() => undefined);
        throw isRetryableInTransaction(error) ? new RetryableAttempt(error) : error;
      }
      try {
        await client.query('COMMIT');
      } catch (error) {
        failure = error;
        // A refused COMMIT (serialization, deadlock) rolled back; a lost connection leaves the
        // outcome unknown, so that transaction is never run again.
        throw ROLLED_BACK.has(pgErrorCode(error) ?? '') ? new RetryableAttempt(error) : error;
      }
    } finally {
      // A connection that failed underneath us is discarded, not handed to the next caller.
      const lost = (isRetryableInTransaction(failure) && !ROLLED_BACK.has(pgErrorCode(failure) ?? '')) || isClientQueryTimeout(failure);
      client.release(lost ? (failure as Error) : undefined);
    }
    for (const effect of effects) {
      try {
        await effect();
      } catch (error) {
        options.onEffectError(error);
      }
    }
    return result;
  }
}

function beginStatement({ advisoryLock }: TransactionOptions): string {
  if (advisoryLock === undefined) return 'BEGIN';
  if (BigInt.asIntN(64, advisoryLock) !== advisoryLock) throw new RangeError('An advisory lock key is a signed 64-bit integer');
  // Two statements in one simple query: one round trip instead of two.
  return `BEGIN; SELECT pg_advisory_xact_lock(${advisoryLock.toString()})`;
}

const ROLLED_BACK = new Set(['40001', '40P01']);

/*
 * Narrower than isTransientDatabaseError: a unit of work may call other services (an HTTP
 * upstream's ECONNRESET or "socket hang up" is not ours to retry), so only Postgres's own
 * verdicts count: serialization failure, deadlock, shutdown / crash recovery (57P0x), a
 * connection-class SQLSTATE (08xxx), or node-postgres's words for a connection that died.
 */
function isRetryableInTransaction(error: unknown): boolean {
  const code = pgErrorCode(error);
  if (code && /^[0-9A-Z]{5}$/.test(code)) return ROLLED_BACK.has(code) || /^57P0[123]$/.test(code) || code.startsWith('08');
  for (let e: unknown = error; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (/^Connection terminated|Client has encountered a connection error|terminating connection/.test(e.message)) return true;
  }
  return false;
}
