import { eq, sql } from 'drizzle-orm';
import { users } from '../../../shared/schema';
import { createApp } from '../../../server/app';
import { chooseDriver, type Database, runMigrations } from '../../../server/db';
import supertest from 'supertest';
import { testConfig } from '../../support/app';
import { createTestDatabase, openTestDatabase, type TestDatabase } from '../../support/database';
import { captureLogger } from '../../support/logger';
import { type NeonRelay, startNeonRelay } from '../../support/neon-relay';

describe('driver selection', () => {
  it('picks Neon for *.neon.tech hosts and node-postgres otherwise, unless told', () => {
    expect(chooseDriver('postgresql://u:p@ep-x-123.eu-central-1.aws.neon.tech/db', 'auto')).toBe('neon');
    expect(chooseDriver('postgresql://u:p@db.internal:5432/db', 'auto')).toBe('pg');
    expect(chooseDriver('postgresql://u:p@db.internal:5432/db', 'neon')).toBe('neon');
    expect(chooseDriver('postgresql://u:p@x.neon.tech/db', 'pg')).toBe('pg');
  });
});

describe('the Neon serverless driver against the real embedded PostgreSQL (through a WebSocket relay)', () => {
  let relay: NeonRelay;
  let testDb: TestDatabase;
  let database: Database;
  const { logger, memory } = captureLogger();

  beforeAll(async () => {
    relay = await startNeonRelay();
    testDb = await createTestDatabase({ empty: true });
    database = openTestDatabase(testDb.url, logger, { driver: 'neon', neonWsProxy: relay.proxy });
  });
  afterAll(async () => {
    await database.close();
    await relay.close();
    await testDb.drop();
  });

  it('applies the migrations to an empty database', async () => {
    expect(database.driver).toBe('neon');
    await runMigrations(database.pool, database.driver, logger);
    const tables = await database.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(['users', 'products', 'orders', 'session_store', 'rate_limits', 'email_outbox', 'messages']),
    );
    expect(memory.lines().some((l) => l.includes('Migrations applied'))).toBe(true);
  });

  it('runs Drizzle queries and rolls a failed transaction back', async () => {
    const [created] = await database.db.insert(users).values({ email: 'neon@example.com', passwordHash: 'x', name: 'Neon' }).returning();
    expect(created!.id).toEqual(expect.any(String));

    await expect(
      database.db.transaction(async (tx) => {
        await tx.insert(users).values({ email: 'rolled-back@example.com', passwordHash: 'x', name: 'R' });
        await tx.execute(sql`SELECT 1/0`);
      }),
    ).rejects.toMatchObject({ cause: expect.objectContaining({ code: '22012', message: 'division by zero' }) });
    const rows = await database.db.select().from(users).where(eq(users.email, 'rolled-back@example.com'));
    expect(rows).toEqual([]);
  });

  it('takes an advisory lock with BEGIN (two statements in one simple query) through the Neon pool', async () => {
    const seen = await database.transaction(
      async (unit) =>
        (await unit.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted`))
          .rows,
      { advisoryLock: -7n },
    );
    expect(seen).toEqual([{ n: 1 }]);
  });

  it('serves /api/health through the Neon pool', async () => {
    const app = createApp({ config: testConfig({ DATABASE_URL: testDb.url }), logger, database, sessionDatabase: database });
    await app.start();
    const res = await supertest(app.express).get('/api/health').expect(200);
    expect(res.body.components.database).toMatchObject({ status: 'ok', driver: 'neon' });
    await app.stop();
  });
  it('a query that never answers over the Neon WebSocket fails at the client-side query timeout', async () => {
    // The server would take 10 s; its own statement timeout is off, so only our deadline can end it.
    const frozen = openTestDatabase(testDb.url, logger, {
      driver: 'neon',
      neonWsProxy: relay.proxy,
      queryTimeoutMillis: 500,
      statementTimeoutMillis: 0,
    });
    try {
      const started = Date.now();
      await expect(frozen.pool.query('SELECT pg_sleep(10)')).rejects.toThrow(/timeout/i);
      expect(Date.now() - started).toBeLessThan(500 + 2_000);
    } finally {
      await frozen.close();
    }
  });
});

describe('migrations', () => {
  it('when several instances migrate one empty database at once, all succeed (advisory lock)', async () => {
    const testDb = await createTestDatabase({ empty: true });
    const { logger } = captureLogger();
    const pools = Array.from({ length: 4 }, () => openTestDatabase(testDb.url, logger, { max: 2 }));
    try {
      await Promise.all(pools.map((d) => runMigrations(d.pool, d.driver, logger)));
      const applied = await pools[0]!.pool.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
      expect(applied.rows[0].n).toBeGreaterThanOrEqual(1);
      const journal = require('../../../migrations/meta/_journal.json') as { entries: unknown[] };
      expect(applied.rows[0].n).toBe(journal.entries.length);
    } finally {
      await Promise.all(pools.map((d) => d.close()));
      await testDb.drop();
    }
  });
});
