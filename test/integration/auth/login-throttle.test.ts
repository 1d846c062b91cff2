import { startTestApp, type TestApp } from '../../support/app';
import { registerUser } from '../../support/users';

let t: TestApp;
beforeAll(async () => {
  // Behind one proxy: X-Forwarded-For names the client, so each attempt below seems to come from a new IP.
  t = await startTestApp({ env: { TRUST_PROXY: '1', RATE_LIMIT_AUTH_PER_MIN: '10', RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_15MIN: '10' } });
});
afterAll(() => t.close());

it('40 sign-in attempts on one account from 40 different X-Forwarded-For addresses: 429 from the 11th on, whatever the casing of the e-mail', async () => {
  const victim = await registerUser(t.request);
  const statuses: number[] = [];
  let limited: { headers: Record<string, string>; body: { error: { code: string } } } | undefined;
  for (let i = 0; i < 40; i++) {
    const email = i % 2 === 0 ? victim.email.toUpperCase() : ` ${victim.email} `;
    const res = await t.request
      .post('/api/auth/login')
      .set('X-Forwarded-For', `203.0.113.${i + 1}`)
      .send({ email, password: `guess number ${i}` });
    statuses.push(res.status);
    if (res.status === 429) limited ??= res;
  }
  expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
  expect(statuses.slice(10)).toEqual(Array(30).fill(429));
  expect(limited!.body.error.code).toBe('rate_limited');
  const retryAfter = Number(limited!.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(60);
  expect(retryAfter).toBeLessThanOrEqual(15 * 60);

  // Even the right password waits: the account's budget is spent before the password is checked.
  await t.request
    .post('/api/auth/login')
    .set('X-Forwarded-For', '198.51.100.1')
    .send({ email: victim.email, password: victim.password })
    .expect(429);
  // Another account is not affected.
  const other = await registerUser(t.request);
  await t.request
    .post('/api/auth/login')
    .set('X-Forwarded-For', '198.51.100.2')
    .send({ email: other.email, password: other.password })
    .expect(200);
});

it('the counters hold no e-mail addresses', async () => {
  const { rows } = await t.database.pool.query("SELECT key FROM rate_limits WHERE key LIKE 'login-account%'");
  expect(rows.length).toBeGreaterThan(0);
  for (const { key } of rows) expect(key).not.toMatch(/@/);
});
