import pg from 'pg';
import { executeWithRetry, isTransientDatabaseError } from '../../../server/db';
import { createTestDatabase, type TestDatabase } from '../../support/database';

let testDb: TestDatabase;
let pool: pg.Pool;
let admin: pg.Pool;
beforeAll(async () => {
  testDb = await createTestDatabase();
  pool = new pg.Pool({ connectionString: testDb.url, max: 2 });
  // Terminated clients emit 'error' on the pool; without a listener the test process would crash.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  admin = new pg.Pool({ connectionString: testDb.url, max: 1 });
  // pool.end() resolves before its connections have closed; the DROP DATABASE … WITH (FORCE) in
  // afterAll can then terminate the admin connection (57P01), and a pool without an 'error'
  // listener throws it as an unhandled error (seen under load).
  admin.on('error', () => undefined);
});
afterAll(async () => {
  await pool.end();
  await admin.end();
  await testDb.drop();
});

describe('executeWithRetry', () => {
  it('when the connection is killed mid-query (pg_terminate_backend), retries on a new connection and succeeds', async () => {
    let attempts = 0;
    const retried: unknown[] = [];
    const result = await executeWithRetry(
      async () => {
        attempts++;
        const client = await pool.connect();
        try {
          if (attempts === 1) {
            const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
            // Another session kills this backend while it sleeps: a real dropped connection.
            const sleeping = client.query('SELECT pg_sleep(5)');
            await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
            await sleeping;
          }
          const { rows } = await client.query('SELECT 41 + 1 AS answer');
          return rows[0].answer as number;
        } finally {
          client.release(true);
        }
      },
      { initialDelayMs: 10, onRetry: (info) => retried.push(info.error) },
    );
    expect(result).toBe(42);
    expect(attempts).toBe(2);
    expect(retried).toHaveLength(1);
    expect(isTransientDatabaseError(retried[0])).toBe(true);
  });

  it('retries a serialization failure (40001) and a deadlock (40P01) raised by the server', async () => {
    for (const code of ['40001', '40P01']) {
      let attempts = 0;
      const value = await executeWithRetry(
        async () => {
          attempts++;
          if (attempts < 3) await pool.query(`DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '${code}'; END $$`);
          return 'done';
        },
        { initialDelayMs: 5 },
      );
      expect(value).toBe('done');
      expect(attempts).toBe(3);
    }
  });

  it('surfaces a non-transient error at once, without retrying', async () => {
    let attempts = 0;
    await expect(
      executeWithRetry(async () => {
        attempts++;
        return pool.query('SELECT * FROM no_such_table');
      }),
    ).rejects.toMatchObject({ code: '42P01' });
    expect(attempts).toBe(1);
  });

  it('gives up after maxAttempts and surfaces the last transient error', async () => {
    let attempts = 0;
    await expect(
      executeWithRetry(
        async () => {
          attempts++;
          return pool.query(`DO $$ BEGIN RAISE EXCEPTION 'again' USING ERRCODE = '40001'; END $$`);
        },
        { maxAttempts: 3, initialDelayMs: 5 },
      ),
    ).rejects.toMatchObject({ code: '40001' });
    expect(attempts).toBe(3);
  });
});

describe('isTransientDatabaseError', () => {
  it('looks through Drizzle-wrapped errors for the SQLSTATE', () => {
    const pgError = Object.assign(new Error('could not serialize access'), { code: '40001' });
    const wrapped = new Error('Failed query: UPDATE …', { cause: pgError });
    expect(isTransientDatabaseError(wrapped)).toBe(true);
    const constraint = new Error('Failed query: INSERT …', { cause: Object.assign(new Error('duplicate key'), { code: '23505' }) });
    expect(isTransientDatabaseError(constraint)).toBe(false);
  });
});
