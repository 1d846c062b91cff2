import { sql } from 'drizzle-orm';
import { Client } from 'pg';
import type { Database } from '../../../server/db';
import { createTestDatabase, openTestDatabase, type TestDatabase } from '../../support/database';
import { captureLogger, waitForLog } from '../../support/logger';
import { waitFor } from '../../support/wait-for';

let testDb: TestDatabase;
let database: Database;
const { logger, memory } = captureLogger();

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = openTestDatabase(testDb.url, logger, { max: 2 });
  await database.db.execute(sql`CREATE TABLE uow_probe (n int PRIMARY KEY)`);
});
afterAll(async () => {
  await database.close();
  await testDb.drop();
});

const count = async () => (await database.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM uow_probe`)).rows[0]!.n;

describe('database.transaction (unit of work)', () => {
  it('when the work resolves, commits its writes (Drizzle and raw statements) and then runs its effects in order', async () => {
    const ran: string[] = [];
    const result = await database.transaction(async (unit) => {
      await unit.tx.execute(sql`INSERT INTO uow_probe VALUES (1)`);
      await unit.query('INSERT INTO uow_probe VALUES ($1)', [2]);
      unit.afterCommit(() => {
        ran.push('first');
      });
      unit.afterCommit(async () => {
        // Runs after COMMIT: another connection already sees the rows.
        ran.push(`second saw ${await count()}`);
      });
      expect(ran).toEqual([]);
      return 'done';
    });
    expect(result).toBe('done');
    expect(ran).toEqual(['first', 'second saw 2']);
  });

  it('when the work throws, rolls every write back and runs no effect', async () => {
    const before = await count();
    const ran: string[] = [];
    await expect(
      database.transaction(async (unit) => {
        await unit.tx.execute(sql`INSERT INTO uow_probe VALUES (10)`);
        unit.afterCommit(() => {
          ran.push('must not run');
        });
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    expect(await count()).toBe(before);
    expect(ran).toEqual([]);
  });

  it('when COMMIT itself fails (deferred constraint), runs no effect and the connection stays usable', async () => {
    await database.db.execute(sql`CREATE TABLE uow_deferred (n int, CONSTRAINT uow_unique UNIQUE (n) DEFERRABLE INITIALLY DEFERRED)`);
    const ran: string[] = [];
    await expect(
      database.transaction(async (unit) => {
        await unit.query('INSERT INTO uow_deferred VALUES (1), (1)');
        unit.afterCommit(() => {
          ran.push('must not run');
        });
      }),
    ).rejects.toThrow(/uow_unique/);
    expect(ran).toEqual([]);
    // Both pooled connections still answer.
    await Promise.all([database.db.execute(sql`SELECT 1`), database.db.execute(sql`SELECT 1`)]);
  });

  it('when the connection is killed mid-work (pg_terminate_backend), runs the work again on a fresh connection and commits once', async () => {
    const killer = openTestDatabase(testDb.url, logger, { max: 1 });
    let attempts = 0;
    const ran: string[] = [];
    try {
      await database.transaction(async (unit) => {
        attempts++;
        await unit.query('INSERT INTO uow_probe VALUES (30)');
        unit.afterCommit(() => {
          ran.push(`effect of attempt ${attempts}`);
        });
        if (attempts === 1) {
          const { rows } = await unit.query('SELECT pg_backend_pid() AS pid');
          await killer.db.execute(sql`SELECT pg_terminate_backend(${(rows[0] as { pid: number }).pid})`);
          await unit.query('SELECT 1');
        }
      });
    } finally {
      await killer.close();
    }
    expect(attempts).toBe(2);
    expect(ran).toEqual(['effect of attempt 2']);
    const rows = await database.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM uow_probe WHERE n = 30`);
    expect(rows.rows[0]!.n).toBe(1);
  });

  it('when an upstream HTTP call inside the work fails (ECONNRESET, not Postgres), runs it exactly once', async () => {
    let attempts = 0;
    await expect(
      database.transaction(async (unit) => {
        attempts++;
        await unit.query('SELECT 1');
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      }),
    ).rejects.toThrow('socket hang up');
    expect(attempts).toBe(1);
  });

  it('when the work fails for a business reason, runs it exactly once', async () => {
    let attempts = 0;
    await expect(
      database.transaction(async () => {
        attempts++;
        throw new Error('insufficient stock');
      }),
    ).rejects.toThrow('insufficient stock');
    expect(attempts).toBe(1);
  });

  it('when an effect throws, the committed result is still returned and the failure is logged', async () => {
    const result = await database.transaction(async (unit) => {
      await unit.tx.execute(sql`INSERT INTO uow_probe VALUES (20)`);
      unit.afterCommit(() => {
        throw new Error('cache unreachable');
      });
      return 20;
    });
    expect(result).toBe(20);
    await waitForLog(memory, /after-commit effect failed: cache unreachable/);
    expect(await count()).toBeGreaterThanOrEqual(3);
  });

  it('with an advisory lock, a second transaction on the same key starts its work after the first commits and sees its rows', async () => {
    await database.db.execute(sql`DELETE FROM uow_probe`);
    const observer = new Client({ connectionString: testDb.url });
    await observer.connect();
    try {
      let finishFirst!: () => void;
      const firstMayFinish = new Promise<void>((resolve) => (finishFirst = resolve));
      const first = database.transaction(
        async (unit) => {
          await unit.query('INSERT INTO uow_probe VALUES (1)');
          await firstMayFinish;
        },
        { advisoryLock: 4242n },
      );
      const second = database.transaction(async (unit) => (await unit.query('SELECT count(*)::int AS n FROM uow_probe')).rows, {
        advisoryLock: 4242n,
      });
      // The second is queued behind the first's lock (its BEGIN round trip has not answered).
      await waitFor('the second transaction to wait for the advisory lock', async () => {
        const { rows } = await observer.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`);
        return rows[0].n === 1;
      });
      finishFirst();
      await first;
      expect(await second).toEqual([{ n: 1 }]);
    } finally {
      await observer.end();
    }
  });

  it('an advisory lock key outside the signed 64-bit range is refused before any statement', async () => {
    await expect(database.transaction(async () => undefined, { advisoryLock: 2n ** 63n })).rejects.toThrow(RangeError);
  });
});
