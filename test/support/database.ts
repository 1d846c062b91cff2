import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDatabase, type Database, type DriverName } from '../../server/db';
import type { Logger } from '../../server/lib/logger';

export function testPostgresBase(): string {
  const base = process.env.MP_TEST_PG_BASE;
  if (!base) throw new Error('MP_TEST_PG_BASE is not set: run the tests through jest (global setup starts PostgreSQL)');
  return base;
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${testPostgresBase()}/postgres` });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh database cloned from the migrated template (or empty, for migration tests). */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const template = options.empty ? 'template0' : process.env.MP_TEST_PG_TEMPLATE;
  await withAdmin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  return {
    name,
    url: `${testPostgresBase()}/${name}`,
    drop: () => withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** A Database (pool + Drizzle) with test-sized settings. */
export function openTestDatabase(
  url: string,
  logger: Logger,
  options: {
    driver?: DriverName;
    neonWsProxy?: string;
    max?: number;
    queryTimeoutMillis?: number;
    statementTimeoutMillis?: number;
    connectionTimeoutMillis?: number;
  } = {},
): Database {
  return createDatabase(
    {
      connectionString: url,
      driver: options.driver ?? 'pg',
      max: options.max ?? 10,
      min: 0,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
      maxUses: 7_500,
      statementTimeoutMillis: options.statementTimeoutMillis ?? 10_000,
      queryTimeoutMillis: options.queryTimeoutMillis ?? 12_000,
      applicationName: 'marketplace-test',
      neonWsProxy: options.neonWsProxy,
    },
    logger,
  );
}
