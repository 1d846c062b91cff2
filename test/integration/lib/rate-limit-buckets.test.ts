import { startTestApp, type TestApp } from '../../support/app';
import { registerUser } from '../../support/users';

/*
 * Reads and writes have budgets of their own, counted per signed-in user (anonymous requests per
 * client IP), and every limited response says where its caller stands (IETF draft RateLimit-*).
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { RATE_LIMIT_READS_PER_MIN: '3', RATE_LIMIT_WRITES_PER_MIN: '50', RATE_LIMIT_SYNC_MS: '20' } });
});
afterAll(() => t.close());

it('when one signed-in user spends the reads budget, then that user gets 429 while another user and anonymous callers on the same IP still read', async () => {
  const first = await registerUser(t.request);
  const second = await registerUser(t.request);
  for (let i = 0; i < 3; i++) await t.request.get('/api/auth/me').set('Cookie', first.cookie).expect(200);
  const limited = await t.request.get('/api/auth/me').set('Cookie', first.cookie).expect(429);
  expect(limited.body.error.code).toBe('rate_limited');
  expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

  await t.request.get('/api/auth/me').set('Cookie', second.cookie).expect(200);
  await t.request.get('/api/products').expect(200);
  // Writes are a separate budget: the user who ran out of reads can still write.
  await t.request.post('/api/auth/logout').set('Cookie', first.cookie).expect(204);
});

it('when a route is limited, then its responses carry RateLimit-Limit/Remaining/Reset, and a 429 reports none remaining with Retry-After', async () => {
  const user = await registerUser(t.request);
  const first = await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200);
  expect(first.headers['ratelimit-limit']).toBe('3');
  expect(first.headers['ratelimit-remaining']).toBe('2');
  expect(Number(first.headers['ratelimit-reset'])).toBeGreaterThan(0);
  expect(Number(first.headers['ratelimit-reset'])).toBeLessThanOrEqual(60);
  await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200);
  const last = await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200);
  expect(last.headers['ratelimit-remaining']).toBe('0');
  const limited = await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(429);
  expect(limited.headers['ratelimit-limit']).toBe('3');
  expect(limited.headers['ratelimit-remaining']).toBe('0');
  expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
});

it('when an unknown /api path is probed, then it spends from the reads budget of the IP too', async () => {
  const probe = await t.request.get('/api/no-such-thing').expect(404);
  expect(probe.headers['ratelimit-limit']).toBe('3');
});
