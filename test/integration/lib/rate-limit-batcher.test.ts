import pg from 'pg';
import { createRateLimitBatcher } from '../../../server/lib/rate-limit-batcher';
import { createTestDatabase, openTestDatabase, type TestDatabase } from '../../support/database';
import { captureLogger } from '../../support/logger';
import { waitFor } from '../../support/wait-for';

/*
 * The batched limiter against a real Postgres whose sync the test can hold (a row lock on the
 * key's counter): what an instance admits while a sync is out must come from the share it had,
 * never from a fresh one granted on totals that are not back yet.
 */
let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(() => testDb.drop());

it('while a sync is held up, a key whose share was spent waits for the totals instead of being admitted again', async () => {
  const { logger } = captureLogger();
  const database = openTestDatabase(testDb.url, logger);
  const batcher = createRateLimitBatcher({ pool: database.pool, syncIntervalMs: 20, logger });
  // A limit of 10: a share of one point between syncs.
  const bucket = batcher.bucket({ name: 'held', points: 10, durationSeconds: 60, whenStoreDown: 'allow' });
  const holder = new pg.Client({ connectionString: testDb.url });
  await holder.connect();
  batcher.start();
  try {
    await bucket.consume('k');
    await waitFor('the first point to be synced', async () => {
      const { rows } = await holder.query(`SELECT points FROM rate_limits WHERE key = 'held:k'`);
      return rows[0]?.points === 1;
    });
    // The next sync of this key will wait on this lock.
    await holder.query('BEGIN');
    await holder.query(`SELECT * FROM rate_limits WHERE key = 'held:k' FOR UPDATE`);
    await bucket.consume('k');
    await waitFor('the sync carrying the second point to wait on the lock', async () => {
      const { rows } = await holder.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO rate_limits%'`,
      );
      return rows[0]!.n === 1;
    });
    const third = bucket.consume('k').then(() => 'admitted');
    // Settled at once if admitted from a fresh share; still waiting if it waits for the totals.
    const early = await Promise.race([third, new Promise((resolve) => setImmediate(() => resolve('waiting')))]);
    expect(early).toBe('waiting');
    await holder.query('COMMIT');
    expect(await third).toBe('admitted');
  } finally {
    await holder.query('ROLLBACK').catch(() => undefined);
    await holder.end();
    await batcher.stop();
    await database.close();
  }
});
