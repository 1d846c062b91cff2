import type pg from 'pg';
import type { Db } from './database';

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

export interface TransactionRunner {
  /**
   * Runs `work` in one transaction on one pooled connection; commits when it resolves, rolls
   * back when it throws, then runs the `afterCommit` effects in order.
   */
  transaction<T>(work: (unit: UnitOfWork) => Promise<T>): Promise<T>;
}

export function createTransactionRunner(options: {
  pool: pg.Pool;
  /** Drizzle over one checked-out client (same driver as the pool). */
  bind(client: pg.PoolClient): Db;
  onEffectError(error: unknown): void;
}): TransactionRunner {
  return {
    async transaction(work) {
      const client = await options.pool.connect();
      const effects: Array<() => void | Promise<void>> = [];
      let result: Awaited<ReturnType<typeof work>>;
      let broken: unknown;
      try {
        await client.query('BEGIN');
        const unit: UnitOfWork = {
          tx: options.bind(client),
          query: (text, values) => client.query(text, values as unknown[]),
          afterCommit: (effect) => {
            effects.push(effect);
          },
        };
        try {
          result = await work(unit);
        } catch (error) {
          await client.query('ROLLBACK').catch((rollbackError: unknown) => {
            // The connection itself failed: do not hand it back to the pool.
            broken = rollbackError;
          });
          throw error;
        }
        await client.query('COMMIT');
      } catch (error) {
        broken ??= isConnectionLevel(error) ? error : undefined;
        throw error;
      } finally {
        client.release(broken instanceof Error ? broken : undefined);
      }
      for (const effect of effects) {
        try {
          await effect();
        } catch (error) {
          options.onEffectError(error);
        }
      }
      return result;
    },
  };
}

// A statement error leaves the connection usable; a socket error does not.
function isConnectionLevel(error: unknown): boolean {
  return error instanceof Error && !('severity' in error) && /connection|socket|terminat/i.test(error.message);
}
