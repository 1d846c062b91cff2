import { drizzle as drizzleNeon } from 'drizzle-orm/neon-serverless';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { withDeadline } from '../lib/deadline';
import type { Logger } from '../lib/logger';
import { createPool, type DriverName, type PoolSettings, type PoolStats, readPoolStats } from './pool';
import { createTransactionRunner, type TransactionRunner } from './unit-of-work';

import type { Db } from './drizzle-types';

export interface PingResult {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export interface Database extends TransactionRunner {
  readonly driver: DriverName;
  readonly pool: pg.Pool;
  readonly db: Db;
  stats(): PoolStats;
  /** `SELECT 1`, answered within `timeoutMs` even when the server is gone. */
  ping(timeoutMs?: number): Promise<PingResult>;
  close(): Promise<void>;
}

export function createDatabase(settings: PoolSettings, logger: Logger, label = 'DATABASE'): Database {
  const { pool, driver } = createPool(settings);
  // Without a listener an idle client's error (server restart, network blip) crashes the process.
  pool.on('error', (error) => logger.error(`[${label}] Idle client error: ${error.message}`));
  // pg-pool only listens for errors on idle clients; a connection dropped between two
  // statements of a checked-out client would otherwise be an unhandled 'error' (a crash).
  // The statement in progress still fails and is handled by its caller.
  // pg-pool's end() resolves once its clients are told to end, not once they have disconnected;
  // stopping the server right then (embedded PostgreSQL) terminates them mid-goodbye and each
  // logs an error. close() waits for every 'remove', which pg-pool emits after the disconnect.
  const open = new Set<pg.PoolClient>();
  let lastRemoved: (() => void) | undefined;
  pool.on('connect', (client) => {
    open.add(client);
    client.on('error', (error) => logger.warn(`[${label}] Connection lost: ${error.message}`));
  });
  pool.on('remove', (client) => {
    open.delete(client);
    if (open.size === 0) lastRemoved?.();
  });
  // Repositories never use Drizzle's relational queries, so no schema is bound: a Db over one
  // transaction's client costs next to nothing to build.
  const bind = (client: pg.Pool | pg.PoolClient) => (driver === 'neon' ? drizzleNeon(client as never) : drizzlePg(client)) as Db;
  const db = bind(pool);
  const runner = createTransactionRunner({
    pool,
    bind,
    onEffectError: (error) => logger.error(`[${label}] An after-commit effect failed: ${(error as Error)?.message ?? error}`),
  });
  let closed: Promise<void> | undefined;

  return {
    driver,
    pool,
    db,
    transaction: runner.transaction,
    stats: () => readPoolStats(pool),
    async ping(timeoutMs = 3_000) {
      const started = performance.now();
      try {
        // The deadline also covers waiting for a pool slot; the per-query limit makes pg discard
        // the connection of an unanswered ping (a frozen server) instead of leaving it checked out.
        await withDeadline(timeoutMs, () => pool.query({ text: 'SELECT 1', query_timeout: timeoutMs } as pg.QueryConfig));
        return { ok: true, latencyMs: Math.round(performance.now() - started) };
      } catch (error) {
        return { ok: false, latencyMs: Math.round(performance.now() - started), error: (error as Error).message };
      }
    },
    close() {
      closed ??= (async () => {
        const disconnected = open.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (lastRemoved = resolve));
        await pool.end();
        await disconnected;
      })();
      return closed;
    },
  };
}
