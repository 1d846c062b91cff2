export type { TransactionRunner, UnitOfWork } from './unit-of-work';
export { createDatabase, type Database, type PingResult } from './database';
export type { Db, DbOrTx, Tx } from './drizzle-types';
export { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded';
export { type HealthMonitor, startHealthMonitor } from './health-monitor';
export { findMigrationsFolder, runMigrations } from './migrate';
export { chooseDriver, type DriverName, type PoolSettings, type PoolStats } from './pool';
export { executeWithRetry, isTransientDatabaseError } from './retry';
export { findDatabaseError, isUniqueViolation, pgErrorCode } from './errors';
