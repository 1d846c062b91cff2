import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createOrPromoteAdmin, findUserStanding, setUserSuspended, type UserStanding } from '../../../server/modules/auth';
import { startTestApp, type TestApp } from '../../support/app';
import { sidCookie } from '../../support/session-cookie';
import { createAdmin, mailsTo, registerUser } from '../../support/users';
import { TestWsClient } from '../../support/ws-client';
import { SESSION_ENDED_CLOSE_CODE } from '../../../shared/contracts';

/* Issue 19: suspension (the primitive the admin routes use) and admins, made only by a command. */
let t: TestApp;
let url: string;
beforeAll(async () => {
  t = await startTestApp();
  url = await t.listen();
});
afterAll(() => t.close());

/** As the admin routes call it, in their own unit of work. */
const suspend = (userId: string, suspended: boolean): Promise<{ before: UserStanding; after: UserStanding } | undefined> =>
  t.database.transaction((unit) => setUserSuspended(unit, userId, suspended, new Date('2026-03-01T12:00:00Z')));

describe('suspension', () => {
  it('when a user is suspended, then their sessions and sockets end and the right password answers 403 account_suspended, a wrong one 401', async () => {
    const user = await registerUser(t.request);
    const tab = await TestWsClient.connect(url, { cookie: user.cookie });
    try {
      const change = await suspend(user.id, true);
      expect(change?.before).toMatchObject({ id: user.id, suspendedAt: null, role: 'buyer', emailVerified: false });
      expect(change?.after.suspendedAt).toBe('2026-03-01T12:00:00.000Z');
      expect((await tab.closedWithin()).code).toBe(SESSION_ENDED_CLOSE_CODE);
    } finally {
      await tab.close();
    }
    await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(401);
    const refused = await t.request.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(403);
    expect(refused.body.error.code).toBe('account_suspended');
    const guessed = await t.request.post('/api/auth/login').send({ email: user.email, password: 'a wrong guess here' }).expect(401);
    expect(guessed.body.error.code).toBe('invalid_credentials');

    // A reset is accepted (same answer as anyone's) but mails nothing.
    await t.request.post('/api/auth/password-reset').send({ email: user.email }).expect(202);
    expect(await mailsTo(t, user.email, 'password_reset')).toEqual([]);

    // Suspending again changes nothing; reinstating lets them in again.
    const again = await suspend(user.id, true);
    expect(again?.after).toEqual(again?.before);
    const reinstated = await suspend(user.id, false);
    expect(reinstated?.after.suspendedAt).toBeNull();
    expect(await findUserStanding(t.database.db, user.id)).toEqual(reinstated?.after);
    await t.request.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(200);
  });

  it('when the user does not exist, then undefined', async () => {
    expect(await suspend('00000000-0000-4000-8000-000000000000', true)).toBeUndefined();
    expect(await findUserStanding(t.database.db, '00000000-0000-4000-8000-000000000000')).toBeUndefined();
  });
});

describe('admins', () => {
  it('when registration names a role, then it is refused and nobody becomes an admin over the API', async () => {
    const email = `would-be-admin-${Date.now()}@example.com`;
    const res = await t.request
      .post('/api/auth/register')
      .send({ email, password: 'violet marmalade on a tuesday', name: 'Mallory', role: 'admin' })
      .expect(400);
    expect(res.body.error.code).toBe('validation_failed');
    const { rows } = await t.database.pool.query('SELECT 1 FROM users WHERE email = $1', [email]);
    expect(rows).toEqual([]);
  });

  it('createAdmin gives a signed-in admin whose role shows in GET /api/auth/me', async () => {
    const admin = await createAdmin(t);
    const me = await t.request.get('/api/auth/me').set('Cookie', admin.cookie).expect(200);
    expect(me.body.user).toMatchObject({ id: admin.id, role: 'admin', emailVerified: true });
  });

  it('createOrPromoteAdmin refuses a missing account without a password, and a weak password', async () => {
    await expect(createOrPromoteAdmin(t.database, { email: `missing-${Date.now()}@example.com` })).rejects.toMatchObject({
      code: 'user_not_found',
    });
    await expect(createOrPromoteAdmin(t.database, { email: `weak-${Date.now()}@example.com`, password: 'password' })).rejects.toMatchObject(
      {
        code: 'weak_password',
      },
    );
  });

  it('npm run admin:create promotes an existing user (signed out, e-mail verified), is idempotent, and creates one only with --password-stdin', async () => {
    const run = (args: string[], stdin?: string) => {
      const child = promisify(execFile)(path.resolve('node_modules/.bin/tsx'), ['scripts/admin-create.ts', ...args], {
        env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: t.testDatabase.url, LOG_LEVEL: 'error' },
      });
      child.child.stdin?.end(stdin ?? '');
      return child.then(
        ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
    };
    const user = await registerUser(t.request);
    const promoted = await run(['--email', user.email.toUpperCase()]);
    expect(promoted).toMatchObject({ code: 0, stdout: expect.stringContaining('Promoted') });
    await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(401);
    const login = await t.request.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(200);
    const me = await t.request.get('/api/auth/me').set('Cookie', sidCookie(login.headers['set-cookie'])).expect(200);
    expect(me.body.user).toMatchObject({ role: 'admin', emailVerified: true });

    const again = await run(['--email', user.email]);
    expect(again).toMatchObject({ code: 0, stdout: expect.stringContaining('already an admin') });

    const newcomer = `ops-${Date.now()}@example.com`;
    const missing = await run(['--email', newcomer]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--password-stdin');
    const password = 'granite pelican across the estuary';
    const created = await run(['--email', newcomer, '--password-stdin'], `${password}\n`);
    expect(created).toMatchObject({ code: 0, stdout: expect.stringContaining('Created admin') });
    expect(created.stdout).not.toContain(password);
    await t.request.post('/api/auth/login').send({ email: newcomer, password }).expect(200);
  });
});
