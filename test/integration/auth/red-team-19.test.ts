import { startTestApp, type TestApp } from '../../support/app';
import { mailedToken, registerUser } from '../../support/users';

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
