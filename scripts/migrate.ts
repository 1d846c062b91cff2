/* `npm run db:migrate`: applies migrations to DATABASE_URL (under the same advisory lock as the server). */
import { runMigrations } from '../server/db';
import { loadConfig, readEnvironment } from '../server/lib/config';
import { createLogger } from '../server/lib/logger';
import { openOperatorDatabase } from './operator-database';

async function main(): Promise<void> {
  const config = loadConfig(readEnvironment());
  const logger = createLogger({ config });
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is not set (the dev server migrates its embedded database itself)');
  // Migrations may rewrite big tables: no statement timeout.
  const database = openOperatorDatabase(config, logger, {
    connectionString: config.DATABASE_URL,
    applicationName: 'marketplace-migrate',
    statementTimeoutMillis: 0,
  });
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
