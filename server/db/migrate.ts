import fs from 'node:fs';
import path from 'node:path';
import { drizzle as drizzleNeon } from 'drizzle-orm/neon-serverless';
import { migrate as migrateNeon } from 'drizzle-orm/neon-serverless/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type pg from 'pg';
import type { Logger } from '../lib/logger';
import type { DriverName } from './pool';

// Any fixed number works; every instance must use the same one.
const MIGRATION_LOCK_KEY = 727_001;

/** The migrations folder, found from this file (works from `server/` under tsx and from `dist/`). */
export function findMigrationsFolder(): string {
  for (const candidate of [path.resolve(__dirname, '../../migrations'), path.resolve(__dirname, '../../../migrations')]) {
    if (fs.existsSync(path.join(candidate, 'meta', '_journal.json'))) return candidate;
  }
  throw new Error(`migrations folder not found near ${__dirname}`);
}

/**
 * Applies pending migrations while holding a session-level advisory lock on one connection:
 * concurrent `migrate()` calls on an empty database fail (duplicate pg_type key), and several
 * instances do start at once.
 */
export async function runMigrations(pool: pg.Pool, driver: DriverName, logger: Logger): Promise<void> {
  const migrationsFolder = findMigrationsFolder();
  const client = await pool.connect();
  const started = Date.now();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      if (driver === 'neon') {
        await migrateNeon(drizzleNeon(client as never), { migrationsFolder });
      } else {
        await migratePg(drizzlePg(client), { migrationsFolder });
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
    logger.info(`[DATABASE] Migrations applied in ${Date.now() - started} ms`);
  } finally {
    client.release();
  }
}
