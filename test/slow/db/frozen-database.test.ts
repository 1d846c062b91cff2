import { runMigrations } from '../../../server/db';
import { startTestApp, type TestApp } from '../../support/app';
import { openTestDatabase } from '../../support/database';
import { captureLogger } from '../../support/logger';
import { createPostgresCluster, type PostgresCluster } from '../../support/postgres-cluster';
import { registerUser, type SignedInUser } from '../../support/users';
import { waitFor } from '../../support/wait-for';

/*
 * A database that freezes (SIGSTOP: connections stay open, nothing answers) rather than fails.
 * Requests must answer 503 within the client's query timeout instead of hanging, health must say
 * the database is down, and after SIGCONT everything recovers without a restart.
 */
const QUERY_TIMEOUT_MS = 1_500;
const settings = { statementTimeoutMillis: 1_000, queryTimeoutMillis: QUERY_TIMEOUT_MS, connectionTimeoutMillis: QUERY_TIMEOUT_MS };

let cluster: PostgresCluster;
let t: TestApp;
let buyer: SignedInUser;
beforeAll(async () => {
  cluster = await createPostgresCluster();
  cluster.start();
  const capture = captureLogger();
  const migrator = openTestDatabase(cluster.url, capture.logger);
  await runMigrations(migrator.pool, 'pg', capture.logger);
  await migrator.close();
  t = await startTestApp({
    capture,
    env: { DATABASE_URL: cluster.url },
    database: openTestDatabase(cluster.url, capture.logger, settings),
    deps: { sessionDatabase: openTestDatabase(cluster.url, capture.logger, { ...settings, max: 5 }) },
  });
  buyer = await registerUser(t.request);
}, 60_000);
afterAll(async () => {
  cluster.thaw();
  await t.close();
  await t.database.close();
  await t.sessionDatabase.close();
  cluster.stop();
});

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work();
  return { value, ms: Date.now() - started };
}

it('frozen: requests answer 503 within the query timeout and health reports the database down; thawed: all recover, no restart', async () => {
  await t.request.get('/api/orders').set('Cookie', buyer.cookie).expect(200);
  cluster.freeze();
  try {
    const [orders, products, health, ready] = await Promise.all([
      timed(() => t.request.get('/api/orders').set('Cookie', buyer.cookie)),
      timed(() => t.request.get('/api/products?q=frozen')),
      timed(() => t.request.get('/api/health')),
      timed(() => t.request.get('/api/health/ready')),
    ]);
    for (const res of [orders, products]) {
      expect(res.value.status).toBe(503);
      expect(['database_timeout', 'database_unavailable']).toContain(res.value.body.error.code);
      expect(res.value.headers['retry-after']).toBeDefined();
      // The query timeout, plus the connect timeout of at most one fresh connection.
      expect(res.ms).toBeLessThan(2 * QUERY_TIMEOUT_MS + 1_000);
    }
    expect(health.value.status).toBe(503);
    expect(health.value.body.components.database.status).toBe('down');
    expect(health.ms).toBeLessThan(3_000 + 1_000);
    expect(ready.value.status).toBe(503);
    expect(ready.ms).toBeLessThan(1_500 + 1_000);
  } finally {
    cluster.thaw();
  }

  const thawed = Date.now();
  await waitFor('readiness after the thaw', async () => (await t.request.get('/api/health/ready')).status === 200, {
    timeoutMs: 5_000,
  });
  expect(Date.now() - thawed).toBeLessThan(5_000);
  await t.request.get('/api/orders').set('Cookie', buyer.cookie).expect(200);
  await t.request.get('/api/products?q=thawed').expect(200);
  const health = await t.request.get('/api/health').expect(200);
  expect(health.body.components.database.status).toBe('ok');
}, 60_000);
