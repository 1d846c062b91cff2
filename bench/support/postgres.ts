import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type Database, runMigrations, startEmbeddedPostgres } from '../../server/db';
import { createLogger, type Logger } from '../../server/lib/logger';
import { openTestDatabase } from '../../test/support/database';
import { freePort } from '../../test/support/ports';

export interface BenchPostgres {
  /** A fresh, migrated database on the bench cluster. */
  createDatabase(name: string, options?: { max?: number }): Promise<{ url: string; database: Database }>;
  /** Another pool on a database of this cluster (closed with the cluster). */
  open(url: string, options?: { max?: number }): Database;
  /**
   * Work to finish before the pools close (an app's shutdown: its LISTEN client stays checked out
   * until then), also when a measurement failed; returns it run-once, for stopping earlier.
   */
  beforeStop(stop: () => Promise<void>): () => Promise<void>;
  logger: Logger;
  stop(): Promise<void>;
}

/** A silent logger: benches print only their table. */
export function quietLogger(): Logger {
  return createLogger({ config: { NODE_ENV: 'test', LOG_LEVEL: 'error' }, transports: [], console: false });
}

/** A throwaway embedded PostgreSQL for one bench run (the same binaries dev and tests use). */
export async function startBenchPostgres(): Promise<BenchPostgres> {
  const logger = quietLogger();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mp-bench-'));
  const embedded = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'postgres', logger });
  const base = embedded.url.replace(/\/[^/]*$/, '');
  const opened: Database[] = [];
  const stoppers: Array<() => Promise<void>> = [];
  const open = (url: string, options: { max?: number } = {}) => {
    // The same pool settings as the test harness.
    const database = openTestDatabase(url, logger, { max: options.max });
    opened.push(database);
    return database;
  };
  return {
    logger,
    open,
    beforeStop(stop) {
      let stopping: Promise<void> | undefined;
      const once = () => {
        stopping ??= stop();
        return stopping;
      };
      stoppers.push(once);
      return once;
    },
    async createDatabase(name, options = {}) {
      const admin = new pg.Client({ connectionString: `${base}/postgres` });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${name}"`);
      await admin.end();
      const url = `${base}/${name}`;
      const database = open(url, options);
      await runMigrations(database.pool, 'pg', logger);
      return { url, database };
    },
    async stop() {
      // Also after a failed measurement: a running app's pools would never finish closing.
      await Promise.allSettled(stoppers.map((stop) => stop()));
      await Promise.allSettled(opened.map((d) => d.close()));
      await embedded.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
