import { SESSION_ENDED_CLOSE_CODE } from '../../../shared/contracts';
import { startTestApp, type TestApp } from '../../support/app';
import { sessionIdOf, sidCookie } from '../../support/session-cookie';
import { mailsTo, registerUser, type SignedInUser } from '../../support/users';
import { TestWsClient } from '../../support/ws-client';

/* Issue 19, accounts: a signed-in user changes their password; every other session ends. */
let t: TestApp;
let url: string;
beforeAll(async () => {
  t = await startTestApp();
  url = await t.listen();
});
afterAll(() => t.close());

const NEW_PASSWORD = 'walnut lantern over the quiet harbour';

async function signInAgain(user: SignedInUser, password = user.password): Promise<string> {
  const res = await t.request.post('/api/auth/login').send({ email: user.email, password }).expect(200);
  return sidCookie(res.headers['set-cookie']);
}

describe('POST /api/auth/password', () => {
  it('when the current password is right, then the new one signs in, the old one does not, other sessions and their sockets end and this one continues under a new id', async () => {
    const user = await registerUser(t.request);
    const otherBrowser = await signInAgain(user);
    const otherTab = await TestWsClient.connect(url, { cookie: otherBrowser });
    try {
      const res = await t.request
        .post('/api/auth/password')
        .set('Cookie', user.cookie)
        .send({ currentPassword: user.password, newPassword: NEW_PASSWORD })
        .expect(200);
      expect(res.body.user).toMatchObject({ id: user.id, email: user.email });
      const current = sidCookie(res.headers['set-cookie']);
      expect(sessionIdOf(current)).not.toBe(sessionIdOf(user.cookie));

      expect((await otherTab.closedWithin()).code).toBe(SESSION_ENDED_CLOSE_CODE);
      await t.request.get('/api/auth/me').set('Cookie', otherBrowser).expect(401);
      await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(401);
      expect((await t.request.get('/api/auth/me').set('Cookie', current).expect(200)).body.user.id).toBe(user.id);

      const old = await t.request.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(401);
      expect(old.body.error.code).toBe('invalid_credentials');
      await signInAgain(user, NEW_PASSWORD);
      const mails = await mailsTo(t, user.email, 'password_changed');
      expect(mails).toHaveLength(1);
      expect(mails[0]!.subject).toBe('Your password was changed');
    } finally {
      await otherTab.close();
    }
  });

  it('when the current password is wrong, then 403 wrong_password and nothing changes', async () => {
    const user = await registerUser(t.request);
    const res = await t.request
      .post('/api/auth/password')
      .set('Cookie', user.cookie)
      .send({ currentPassword: 'not the password at all', newPassword: NEW_PASSWORD })
      .expect(403);
    expect(res.body.error.code).toBe('wrong_password');
    await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200);
    await signInAgain(user);
    expect(await mailsTo(t, user.email, 'password_changed')).toEqual([]);
  });

  it('when the new password is guessable, then 400 weak_password and the old one still works', async () => {
    const user = await registerUser(t.request);
    const res = await t.request
      .post('/api/auth/password')
      .set('Cookie', user.cookie)
      .send({ currentPassword: user.password, newPassword: 'password123' })
      .expect(400);
    expect(res.body.error.code).toBe('weak_password');
    await signInAgain(user);
  });

  it('when the body is malformed, then 400 validation_failed; signed out, then 401', async () => {
    const user = await registerUser(t.request);
    const bad = await t.request.post('/api/auth/password').set('Cookie', user.cookie).send({ newPassword: 42 }).expect(400);
    expect(bad.body.error.code).toBe('validation_failed');
    await t.request.post('/api/auth/password').send({ currentPassword: 'x', newPassword: NEW_PASSWORD }).expect(401);
  });
});
