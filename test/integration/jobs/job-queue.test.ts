import { type JobQueue, createJobQueue } from '../../../server/lib/job-queue';
import type { Database } from '../../../server/db';
import { openTestDatabase } from '../../support/database';
import { captureLogger, waitForLog } from '../../support/logger';
import { createPostgresCluster, type PostgresCluster } from '../../support/postgres-cluster';
import { waitFor } from '../../support/wait-for';

/*
 * The facility on its own, against a Postgres cluster of its own: a fresh database (no pgboss
 * schema, as in production on first deploy) that is not even running when the queue starts.
 */
let cluster: PostgresCluster;
let database: Database;
let jobs: JobQueue;
const { logger, memory } = captureLogger();
const runs: Array<{ data: unknown; retryCount: number }> = [];

beforeAll(async () => {
  cluster = await createPostgresCluster();
  database = openTestDatabase(cluster.url, logger, { max: 4 });
  jobs = createJobQueue({ pool: database.pool, logger, pollingIntervalMs: 500, shutdownTimeoutMs: 1_000 });
  jobs.work<{ failFirst: boolean }>('probe', { expireInSeconds: 30, retryLimit: 3, retryDelaySeconds: 1 }, async (job) => {
    runs.push({ data: job.data, retryCount: job.retryCount });
    if (job.data.failFirst && job.retryCount === 0) throw new Error('first attempt fails');
  });
});
afterAll(async () => {
  await jobs.stop?.();
  await database.close();
  try {
    cluster.stop();
  } catch {
    // never started
  }
});

it('when the database is down at start, start() resolves, health is degraded, and the queue starts once it is up (creating its schema)', async () => {
  await jobs.start?.();
  expect(memory.lines().some((l) => l.includes('[JOBS] Could not start'))).toBe(true);
  expect(await jobs.health?.()).toMatchObject({ status: 'degraded', started: false });
  cluster.start();
  await waitForLog(memory, /\[JOBS\] Started: probe/, { timeoutMs: 20_000 });
  const { rows } = await database.pool.query(
    `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'pgboss' AND table_name = 'job'`,
  );
  expect(rows[0].n).toBe(1);
  expect(await jobs.health?.()).toMatchObject({ status: 'ok', started: true, queues: { probe: 0 } });
}, 30_000);

it('a job whose handler throws is retried by pg-boss and completes on the next attempt', async () => {
  const id = await jobs.sendNow('probe', { failFirst: true });
  await waitFor(
    'the retried job to complete',
    async () => (await database.pool.query('SELECT state FROM pgboss.job WHERE id = $1', [id])).rows[0]?.state === 'completed',
  );
  expect(runs.filter((r) => (r.data as { failFirst: boolean }).failFirst).map((r) => r.retryCount)).toEqual([0, 1]);
  expect(memory.lines().some((l) => l.includes(`[JOBS] probe job ${id} failed (attempt 1): first attempt fails`))).toBe(true);
});

it('sending to a queue nobody declared is an error, not a silently dropped job', async () => {
  await expect(jobs.sendNow('no-such-queue')).rejects.toThrow(/job queue no-such-queue does not exist/);
});

it('stopping a queue that is still retrying its start (database down) returns at once, not after the backoff', async () => {
  const closed = openTestDatabase('postgresql://postgres@127.0.0.1:9/nothing', logger, { max: 1, connectionTimeoutMillis: 500 });
  const stranded = createJobQueue({ pool: closed.pool, logger, pollingIntervalMs: 500, shutdownTimeoutMs: 1_000 });
  try {
    await stranded.start?.();
    // Wait until it sits in a backoff pause (grown past a few seconds), then stop.
    await waitForLog(
      memory,
      (e) =>
        /\[JOBS\] Start failed .*next try in (\d+) ms/.test(String(e.message)) &&
        Number(/in (\d+) ms/.exec(String(e.message))![1]) >= 2_000,
      {
        onlyNew: true,
        timeoutMs: 20_000,
      },
    );
    const stopping = Date.now();
    await stranded.stop?.();
    expect(Date.now() - stopping).toBeLessThan(1_500);
  } finally {
    await closed.close();
  }
}, 30_000);
