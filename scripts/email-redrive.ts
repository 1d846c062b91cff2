/* `npm run email:redrive`: queues every given-up mail (status failed) again and prints how many. */
import { loadConfig, readEnvironment } from '../server/lib/config';
import { createJobQueue } from '../server/lib/job-queue';
import { createLogger } from '../server/lib/logger';
import { redriveGivenUpEmail } from '../server/modules/email';
import { openOperatorDatabase } from './operator-database';

async function main(): Promise<void> {
  const config = loadConfig(readEnvironment());
  const logger = createLogger({ config });
  const url = config.DATABASE_URL ?? `postgresql://postgres:postgres@127.0.0.1:${config.EMBEDDED_PG_PORT}/marketplace`;
  const database = openOperatorDatabase(config, logger, {
    connectionString: url,
    applicationName: 'marketplace-email-redrive',
    statementTimeoutMillis: config.DB_STATEMENT_TIMEOUT,
  });
  try {
    // Never started: only its transactional send is used; the running servers' workers send the mail.
    const jobs = createJobQueue({
      pool: database.pool,
      logger,
      pollingIntervalMs: config.JOBS_POLL_INTERVAL_MS,
      shutdownTimeoutMs: config.JOBS_SHUTDOWN_TIMEOUT_MS,
    });
    const count = await redriveGivenUpEmail(database, jobs);
    process.stdout.write(`Re-queued ${count} given-up e-mail${count === 1 ? '' : 's'}\n`);
  } finally {
    await database.close();
  }
}

main().catch((error) => {
  process.stderr.write(`E-mail redrive failed: ${(error as Error).message}\n`);
  process.exit(1);
});
