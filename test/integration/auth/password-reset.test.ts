import { startTestApp, type TestApp } from '../../support/app';
import { ManualClock } from '../../support/clock';
import { sidCookie } from '../../support/session-cookie';
import { mailedToken, mailsTo, registerUser } from '../../support/users';

/* Issue 19, accounts: a forgotten password is reset through a link mailed to the address. */
const MAILS_PER_ADDRESS = 3;
const clock = new ManualClock(Date.now());
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ deps: { clock }, env: { RATE_LIMIT_ACCOUNT_MAIL_PER_HOUR: String(MAILS_PER_ADDRESS) } });
});
afterAll(() => t.close());

const NEW_PASSWORD = 'amber tortoise beside the lighthouse';
const requestReset = (email: string) => t.request.post('/api/auth/password-reset').send({ email });
const confirm = (token: string, password = NEW_PASSWORD) => t.request.post('/api/auth/password-reset/confirm').send({ token, password });

describe('POST /api/auth/password-reset', () => {
  it('when the address is unknown, then 202 with the same body as for a known one and no mail', async () => {
    const user = await registerUser(t.request);
    const nobody = `nobody-${Date.now()}@example.com`;
    const known = await requestReset(user.email).expect(202);
    const unknown = await requestReset(nobody).expect(202);
    expect(unknown.body).toEqual(known.body);
    expect(await mailsTo(t, nobody)).toEqual([]);
    const [mail] = await mailsTo(t, user.email, 'password_reset');
    expect(mail!.text).toContain(`${t.config.PUBLIC_BASE_URL}/reset-password?token=`);
    // The token in the text as well as in the link; the database holds only its hash.
    const token = await mailedToken(t, user.email, 'password_reset');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(mail!.text).toContain(`code: ${token}`);
    const { rows } = await t.database.pool.query('SELECT token_hash FROM account_tokens WHERE user_id = $1 AND purpose = $2', [
      user.id,
      'password_reset',
    ]);
    expect(rows.map((r) => r.token_hash)).not.toContain(token);
  });

  it('when one address asks too often, then 429 for it, whoever asks, while other addresses are served', async () => {
    const target = `target-${Date.now()}@example.com`;
    for (let i = 0; i < MAILS_PER_ADDRESS; i++) await requestReset(target).expect(202);
    const refused = await requestReset(target.toUpperCase()).expect(429);
    expect(refused.headers['retry-after']).toBeDefined();
    await requestReset(`other-${Date.now()}@example.com`).expect(202);
  });
});

describe('POST /api/auth/password-reset/confirm', () => {
  it('when the mailed token is used, then the password changes, every session ends, and a second use is 400 invalid_token', async () => {
    const user = await registerUser(t.request);
    const otherSession = sidCookie(
      (await t.request.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(200)).headers['set-cookie'],
    );
    await requestReset(user.email).expect(202);
    const token = await mailedToken(t, user.email, 'password_reset');

    await confirm(token).expect(204);
    await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(401);
    await t.request.get('/api/auth/me').set('Cookie', otherSession).expect(401);
    await t.request.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(401);
    await t.request.post('/api/auth/login').send({ email: user.email, password: NEW_PASSWORD }).expect(200);
    expect(await mailsTo(t, user.email, 'password_changed')).toHaveLength(1);

    const again = await confirm(token, 'another fine password for the ages').expect(400);
    expect(again.body.error.code).toBe('invalid_token');
  });

  it('when the token is an hour old, then 400 invalid_token, the same answer as an unknown or malformed one', async () => {
    const user = await registerUser(t.request);
    await requestReset(user.email).expect(202);
    const token = await mailedToken(t, user.email, 'password_reset');
    clock.advance(60 * 60 * 1000);
    const expired = await confirm(token).expect(400);
    const unknown = await confirm('A'.repeat(43)).expect(400);
    const malformed = await confirm('not a token!').expect(400);
    for (const res of [expired, unknown, malformed]) {
      expect(res.body.error.code).toBe('invalid_token');
      expect(res.body.error.message).toBe(expired.body.error.message);
    }
    await t.request.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(200);
  });

  it('when a new link is asked for, then the earlier one stops working', async () => {
    const user = await registerUser(t.request);
    await requestReset(user.email).expect(202);
    const first = await mailedToken(t, user.email, 'password_reset');
    await requestReset(user.email).expect(202);
    const second = await mailedToken(t, user.email, 'password_reset');
    expect(second).not.toBe(first);
    expect((await confirm(first).expect(400)).body.error.code).toBe('invalid_token');
    await confirm(second).expect(204);
  });

  it('when the new password is guessable, then 400 weak_password and the link still works with a better one', async () => {
    const user = await registerUser(t.request);
    await requestReset(user.email).expect(202);
    const token = await mailedToken(t, user.email, 'password_reset');
    expect((await confirm(token, 'password1234').expect(400)).body.error.code).toBe('weak_password');
    await confirm(token).expect(204);
  });
});
