import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore } from '../../support/catalogue';
import { ManualClock } from '../../support/clock';
import { registerUser } from '../../support/users';
import { waitFor } from '../../support/wait-for';
import { placeCardOrder } from '../../support/orders';

const clock = new ManualClock(Date.now());
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ deps: { clock }, env: { JOBS_POLL_INTERVAL_MS: '500' } });
});
afterAll(() => t.close());

const query = async (text: string, values: unknown[] = []) => (await t.database.pool.query(text, values)).rows;

it('the periodic jobs are registered with pg-boss on their configured cron schedules', async () => {
  expect(await t.app.jobs.schedules()).toEqual({
    'orders-expire-overdue': '* * * * *',
    'orders-idempotency-keys-cleanup': '41 * * * *',
    'sessions-prune': '17 */6 * * *',
    'rate-limits-cleanup': '*/10 * * * *',
    'email-requeue-stranded': '*/10 * * * *',
    'objects-sweep-orphans': '23 * * * *',
  });
});

it('when the Idempotency-Key cleanup job runs, keys older than 24 h are deleted and younger ones kept', async () => {
  const vendor = await openStore(t.request);
  const product = await listProduct(t.request, vendor, { stock: 5 });
  const buyer = await registerUser(t.request);
  for (const key of ['old-key', 'new-key'])
    await t.request
      .post('/api/orders')
      .set('Cookie', buyer.cookie)
      .set('Idempotency-Key', key)
      .send({ items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' })
      .expect(201);
  await query(`UPDATE order_idempotency_keys SET created_at = $1 WHERE user_id = $2 AND key = 'old-key'`, [
    new Date(clock.now() - 24 * 60 * 60_000 - 1_000),
    buyer.id,
  ]);
  await t.app.jobs.sendNow('orders-idempotency-keys-cleanup');
  await waitFor(
    'the expired key to go',
    async () => (await query(`SELECT 1 FROM order_idempotency_keys WHERE key = 'old-key'`)).length === 0,
  );
  expect((await query(`SELECT key FROM order_idempotency_keys WHERE user_id = $1`, [buyer.id])).map((r) => r.key)).toEqual(['new-key']);
});

it('when the cleanup job runs, expired rate-limit counters are deleted and live ones kept', async () => {
  const now = Date.now();
  await query(
    `INSERT INTO rate_limits (key, points, expire) VALUES ('test:expired', 3, $1), ('test:live', 1, $2), ('test:no-expiry', 1, NULL)`,
    [now - 1_000, now + 60_000],
  );
  await t.app.jobs.sendNow('rate-limits-cleanup');
  await waitFor(
    'the expired counter to go',
    async () => (await query(`SELECT 1 FROM rate_limits WHERE key = 'test:expired'`)).length === 0,
  );
  expect((await query(`SELECT key FROM rate_limits WHERE key LIKE 'test:%' ORDER BY key`)).map((r) => r.key)).toEqual([
    'test:live',
    'test:no-expiry',
  ]);
});

it('when the prune job runs, expired sessions are deleted and live ones kept', async () => {
  await query(
    `INSERT INTO session_store (sid, sess, expire) VALUES ('expired-sid', '{}', now() - interval '1 hour'), ('live-sid', '{}', now() + interval '1 hour')`,
  );
  await t.app.jobs.sendNow('sessions-prune');
  await waitFor(
    'the expired session to go',
    async () => (await query(`SELECT 1 FROM session_store WHERE sid = 'expired-sid'`)).length === 0,
  );
  expect(await query(`SELECT sid FROM session_store WHERE sid = 'live-sid'`)).toEqual([{ sid: 'live-sid' }]);
});

it('when the expiry job runs, an unpaid order past ORDER_EXPIRY_MINUTES expires and its stock returns', async () => {
  const vendor = await openStore(t.request);
  const product = await listProduct(t.request, vendor, { stock: 3 });
  const buyer = await registerUser(t.request);
  const order = await placeCardOrder(t.request, buyer, [{ productId: product.id, quantity: 3 }]);
  clock.advance(31 * 60_000);
  await t.app.jobs.sendNow('orders-expire-overdue');
  await waitFor(
    'the order to expire',
    async () => (await query('SELECT status FROM orders WHERE id = $1', [order.id]))[0]?.status === 'expired',
  );
  expect((await query('SELECT stock FROM products WHERE id = $1', [product.id]))[0].stock).toBe(3);
});

it('health and metrics show the queue: started, depth per queue, jobs run by outcome', async () => {
  const health = await t.request.get('/api/health').expect(200);
  expect(health.body.components.jobs).toMatchObject({
    status: 'ok',
    started: true,
    queues: { 'email-send': expect.any(Number), 'rate-limits-cleanup': 0 },
  });
  const metrics = (await t.request.get('/metrics').expect(200)).text;
  expect(metrics).toMatch(/marketplace_job_queue_depth\{queue="email-send"\} \d+/);
  expect(metrics).toMatch(/marketplace_jobs_total\{queue="rate-limits-cleanup",outcome="completed"\} [1-9]/);
  expect(metrics).toMatch(/marketplace_jobs_total\{queue="orders-expire-overdue",outcome="completed"\} [1-9]/);
});

it('with cron enabled, a tick of the every-minute schedule queues and runs the expiry job without anyone sending it', async () => {
  const jobsOf = async () =>
    (await query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'orders-expire-overdue' AND state = 'completed'`))[0].n as number;
  const before = await jobsOf();
  // A second instance with the scheduler on, on the database where the schedules are registered:
  // pg-boss checks them as it starts, and the current minute's tick is due at once.
  const cronApp = await startTestApp({ testDatabase: t.testDatabase, env: { JOBS_CRON_ENABLED: 'true', JOBS_POLL_INTERVAL_MS: '500' } });
  try {
    await waitFor('a cron-sent expiry job to complete', async () => (await jobsOf()) > before, { timeoutMs: 12_000, intervalMs: 200 });
  } finally {
    await cronApp.close();
  }
});

it('with no job running, stopping the queue takes well under a second (no 30 s pg-boss default)', async () => {
  const started = Date.now();
  await t.app.jobs.stop?.();
  expect(Date.now() - started).toBeLessThan(1_500);
  expect((await t.request.get('/api/health').expect(200)).body.components.jobs.started).toBe(false);
});
