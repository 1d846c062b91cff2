import { runMigrations } from '../../../server/db';
import { startTestApp, type TestApp } from '../../support/app';
import { openTestDatabase } from '../../support/database';
import { captureLogger, waitForLog } from '../../support/logger';
import { createPostgresCluster, type PostgresCluster } from '../../support/postgres-cluster';
import { registerUser } from '../../support/users';

/*
 * A private PostgreSQL cluster the tests stop and start, standing in for a database that is
 * cold-starting or briefly gone when the server boots.
 */
let cluster: PostgresCluster;
beforeAll(async () => {
  cluster = await createPostgresCluster();
  cluster.start();
  const { logger } = captureLogger();
  const db = openTestDatabase(cluster.url, logger);
  await runMigrations(db.pool, 'pg', logger);
  await db.close();
  cluster.stop();
}, 60_000);
afterAll(() => {
  try {
    cluster.stop();
  } catch {
    // Already stopped.
  }
});

function startAppOnCluster(capture: ReturnType<typeof captureLogger>, env: Record<string, string> = {}): Promise<TestApp> {
  return startTestApp({
    capture,
    env: { DATABASE_URL: cluster.url, ...env },
    database: openTestDatabase(cluster.url, capture.logger),
    deps: { sessionDatabase: openTestDatabase(cluster.url, capture.logger, { max: 5 }) },
  });
}

async function closeApp(t: TestApp): Promise<void> {
  await t.close();
  await t.database.close();
  await t.sessionDatabase.close();
}

it('when the database is down for the first attempt, the table init retries with backoff and succeeds', async () => {
  const capture = captureLogger();
  const starting = startAppOnCluster(capture);
  await waitForLog(capture.memory, /\[SESSION-STORE-ERROR\] Attempt 1\/3 failed/);
  cluster.start();
  const t = await starting;
  try {
    const messages = capture.memory.entries.map((e) => String(e.message));
    expect(messages).toContain('[SESSION-STORE] Initializing session table (attempt 1/3)…');
    expect(messages.some((m) => /Initializing session table \(attempt [23]\/3\)/.test(m))).toBe(true);
    expect(messages).toContain('[SESSION-STORE] Session table ready');
    await t.request.get('/api/health/ready').expect(200);
    const user = await registerUser(t.request);
    await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200);
  } finally {
    await closeApp(t);
    cluster.stop();
  }
}, 30_000);

it('when every attempt fails, the server still runs, says not ready, and recovers without a restart', async () => {
  const capture = captureLogger();
  const t = await startAppOnCluster(capture, { SESSION_INIT_RETRY_MS: '300' });
  try {
    const failures = capture.memory.entries.filter((e) => /\[SESSION-STORE-ERROR\] Attempt \d\/3 failed/.test(String(e.message)));
    expect(failures).toHaveLength(3);
    await t.request.get('/api/health/live').expect(200);
    const notReady = await t.request.get('/api/health/ready').expect(503);
    expect(JSON.stringify(notReady.body)).toMatch(/session table not initialised/);

    cluster.start();
    await waitForLog(capture.memory, /\[SESSION-STORE\] Session table ready/);
    await t.request.get('/api/health/ready').expect(200);
    const user = await registerUser(t.request);
    await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200);
  } finally {
    await closeApp(t);
    cluster.stop();
  }
}, 30_000);
