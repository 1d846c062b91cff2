import { drizzle as drizzleNeon } from 'drizzle-orm/neon-serverless';
import { drizzle as drizzlePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import * as schema from '../../shared/schema';
import type { Logger } from '../lib/logger';
import { createPool, type DriverName, type PoolSettings, type PoolStats, readPoolStats } from './pool';

/*
 * Repositories see one Drizzle type whatever the driver: the Neon adapter builds the same
 * PgDatabase API and its results have node-postgres's shape ({rows, rowCount}).
 */
export type Db = NodePgDatabase<typeof schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

export interface PingResult {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export interface Database {
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
  pool.on('connect', (client) => {
    client.on('error', (error) => logger.warn(`[${label}] Connection lost: ${error.message}`));
  });
  const db = (driver === 'neon' ? drizzleNeon(pool as never, { schema }) : drizzlePg(pool, { schema })) as Db;
  let closed: Promise<void> | undefined;

  return {
    driver,
    pool,
    db,
    stats: () => readPoolStats(pool),
    async ping(timeoutMs = 3_000) {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([pool.query('SELECT 1'), timeout]);
        return { ok: true, latencyMs: Math.round(performance.now() - started) };
      } catch (error) {
        return { ok: false, latencyMs: Math.round(performance.now() - started), error: (error as Error).message };
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      closed ??= pool.end();
      return closed;
    },
  };
}
