import { createDatabase, type Database } from '../server/db';
import type { Config } from '../server/lib/config';
import type { Logger } from '../server/lib/logger';

/** One connection to the configured database for an operator script: scripts never need a pool's worth. */
export function openOperatorDatabase(
  config: Config,
  logger: Logger,
  options: { connectionString: string; applicationName: string; statementTimeoutMillis: number },
): Database {
  return createDatabase(
    {
      connectionString: options.connectionString,
      driver: config.DB_DRIVER,
      max: 1,
      min: 0,
      idleTimeoutMillis: 1_000,
      connectionTimeoutMillis: config.DB_CONNECT_TIMEOUT,
      maxUses: config.DB_MAX_USES,
      statementTimeoutMillis: options.statementTimeoutMillis,
      applicationName: options.applicationName,
      neonWsProxy: config.NEON_WS_PROXY,
    },
    logger,
  );
}
