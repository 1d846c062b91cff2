import { startTestApp, type TestApp } from '../../support/app';
import { registerUser } from '../../support/users';
import { waitFor } from '../../support/wait-for';

/*
 * The limiter's store is Postgres (table rate_limits). Renaming the table makes every count fail
 * the way an unreachable store does, while the rest of the database keeps answering, so what a
 * user sees is the limiter's own choice per bucket.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const breakStore = () => t.database.pool.query('ALTER TABLE rate_limits RENAME TO rate_limits_unreachable');
const restoreStore = () => t.database.pool.query('ALTER TABLE rate_limits_unreachable RENAME TO rate_limits');
const storeWarnings = (bucket: string) =>
  t.logs.entries.filter((e) => e.level === 'warn' && String(e.message).startsWith(`[RATE-LIMIT] ${bucket}: store unavailable`));

it('when the store is unavailable, sign-in and registration fail closed (503 rate_limit_unavailable with Retry-After) and work again once it returns', async () => {
  const user = await registerUser(t.request);
  await breakStore();
  try {
    const login = await t.request.post('/api/auth/login').send({ email: user.email, password: user.password });
    expect(login.status).toBe(503);
    expect(login.body.error.code).toBe('rate_limit_unavailable');
    expect(Number(login.headers['retry-after'])).toBeGreaterThan(0);
    const register = await t.request
      .post('/api/auth/register')
      .send({ email: 'new@example.com', password: 'a long passphrase here', name: 'N' });
    expect(register.status).toBe(503);
    expect(register.body.error.code).toBe('rate_limit_unavailable');
  } finally {
    await restoreStore();
  }
  await t.request.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(200);
});

it('when the store is unavailable, general buckets fail open, warning once per bucket rather than once per request', async () => {
  await breakStore();
  try {
    for (let i = 0; i < 20; i++) await t.request.get('/api/products').expect(200);
    for (let i = 0; i < 5; i++) await t.request.get('/api/products?q=hat').expect(200);
    // Load buckets count in memory: the store is asked by the next batched sync, which fails.
    await waitFor('the failed sync to be reported', async () => storeWarnings('reads').length > 0 && storeWarnings('search').length > 0);
    // Still counting locally, still letting requests through; the unsent counts are retried every sync.
    for (let i = 0; i < 20; i++) await t.request.get('/api/products').expect(200);
    for (let i = 0; i < 5; i++) await t.request.get('/api/products?q=hat').expect(200);
  } finally {
    await restoreStore();
  }
  expect(storeWarnings('reads')).toHaveLength(1);
  expect(storeWarnings('search')).toHaveLength(1);
  // The warning names the bucket and the failure, never a key (an IP or an account).
  expect(String(storeWarnings('search')[0]!.message)).not.toContain('127.0.0.1');
});
