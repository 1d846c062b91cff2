/* `npm run db:migrate`: applies migrations to DATABASE_URL (under the same advisory lock as the server). */
import { createDatabase, runMigrations } from '../server/db';
import { loadConfig, readEnvironment } from '../server/lib/config';
import { createLogger } from '../server/lib/logger';

async function main(): Promise<void> {
  const config = loadConfig(readEnvironment());
  const logger = createLogger({ config });
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is not set (the dev server migrates its embedded database itself)');
  const database = createDatabase(
    {
      connectionString: config.DATABASE_URL,
      driver: config.DB_DRIVER,
      max: 1,
      min: 0,
      idleTimeoutMillis: 1_000,
      connectionTimeoutMillis: config.DB_CONNECT_TIMEOUT,
      maxUses: config.DB_MAX_USES,
      statementTimeoutMillis: 0,
      applicationName: 'marketplace-migrate',
      neonWsProxy: config.NEON_WS_PROXY,
    },
    logger,
  );
  try {
    await runMigrations(database.pool, database.driver, logger);
  } finally {
    await database.close();
  }
}

main().catch((error) => {
  process.stderr.write(`Migration failed: ${(error as Error).message}\n`);
  process.exit(1);
});
