export type { TransactionRunner, UnitOfWork } from './unit-of-work';
export { createDatabase, type Database } from './database';
export type { Db, DbOrTx } from './drizzle-types';
export { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded';
export { type HealthMonitor, startHealthMonitor } from './health-monitor';
export { runMigrations } from './migrate';
export { chooseDriver, type DriverName } from './pool';
export { executeWithRetry, isTransientDatabaseError } from './retry';
export { isUniqueViolation, pgErrorCode } from './errors';
