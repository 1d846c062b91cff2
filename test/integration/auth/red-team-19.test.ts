import { startTestApp, type TestApp } from '../../support/app';
import { mailedToken, registerUser } from '../../support/users';
import { waitFor } from '../../support/wait-for';

/* Issue 19 red team, accounts: holes found by probing the account workflows. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('a reset link mailed before the password changed', () => {
  it('when the owner then changes the password, then the earlier reset link is 400 invalid_token and the changed password stays', async () => {
    // A link sitting in a mailbox (or intercepted) must not outlive the password it was meant to replace.
    const user = await registerUser(t.request);
    await t.request.post('/api/auth/password-reset').send({ email: user.email }).expect(202);
    const token = await mailedToken(t, user.email, 'password_reset');
    const changed = 'saffron kettle beneath the stairwell';
    await t.request
      .post('/api/auth/password')
      .set('Cookie', user.cookie)
      .send({ currentPassword: user.password, newPassword: changed })
      .expect(200);

    const res = await t.request
      .post('/api/auth/password-reset/confirm')
      .send({ token, password: 'a takeover password nobody asked for' })
      .expect(400);
    expect(res.body.error.code).toBe('invalid_token');
    await t.request.post('/api/auth/login').send({ email: user.email, password: changed }).expect(200);
  });
});

describe('a sign-in whose password check overlaps a suspension', () => {
  it('when the suspension commits while the password is being checked, then the sign-in is 403 account_suspended and leaves no session', async () => {
    const user = await registerUser(t.request);
    // The suspension as setUserSuspended makes it (row locked, suspended, sessions deleted), committed only
    // once the sign-in has read the account as in good standing.
    const suspension = await t.database.pool.connect();
    try {
      await suspension.query('BEGIN');
      await suspension.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [user.id]);
      await suspension.query('UPDATE users SET suspended_at = now() WHERE id = $1', [user.id]);
      await suspension.query("DELETE FROM session_store WHERE sess->>'userId' = $1", [user.id]);
      const signingIn = t.request
        .post('/api/auth/login')
        .send({ email: user.email, password: user.password })
        .then((res) => res);
      // Before the fix the sign-in answered 200 here, its session saved after the suspension deleted the others.
      await waitFor(
        'the sign-in to wait for the suspension',
        async () =>
          (
            await t.database.pool.query(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
          ).rows[0].n > 0,
        { timeoutMs: 5_000, intervalMs: 20 },
      );
      await suspension.query('COMMIT');
      const res = await signingIn;
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('account_suspended');
    } finally {
      suspension.release();
    }
    const { rows } = await t.database.pool.query("SELECT count(*)::int AS n FROM session_store WHERE sess->>'userId' = $1", [user.id]);
    expect(rows[0].n).toBe(0);
  });
});
