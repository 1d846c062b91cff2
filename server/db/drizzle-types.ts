import type { NodePgDatabase } from 'drizzle-orm/node-postgres';

/*
 * Repositories see one Drizzle type whatever the driver: the Neon adapter builds the same
 * PgDatabase API and its results have node-postgres's shape ({rows, rowCount}).
 */
export type Db = NodePgDatabase;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;
