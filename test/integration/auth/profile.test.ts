import { startTestApp, type TestApp } from '../../support/app';
import { openStore } from '../../support/catalogue';
import { registerUser } from '../../support/users';

/*
 * Issue 19, accounts: PATCH /api/auth/me changes what a user may change of their own account —
 * the name — and never the role or the e-mail.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const rowOf = async (id: string) =>
  (await t.database.pool.query<{ name: string; role: string; email: string }>('SELECT name, role, email FROM users WHERE id = $1', [id]))
    .rows[0]!;

it('when a signed-in user changes their name, then the answer and GET /api/auth/me show it, and the row holds it', async () => {
  const user = await registerUser(t.request);
  const res = await t.request.patch('/api/auth/me').set('Cookie', user.cookie).send({ name: 'Ann Other' }).expect(200);
  expect(res.body.user).toMatchObject({ id: user.id, name: 'Ann Other', role: 'buyer' });
  expect(res.headers['cache-control']).toBe('private, no-store');
  const me = await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200);
  expect(me.body.user.name).toBe('Ann Other');
  expect((await rowOf(user.id)).name).toBe('Ann Other');
});

it.each([
  ['role', { name: 'Mallory', role: 'admin' }],
  ['e-mail', { name: 'Mallory', email: 'someone-else@example.com' }],
])('when the body tries to change the %s, then it is a 400 and nothing changes', async (_field, body) => {
  const user = await registerUser(t.request);
  const before = await rowOf(user.id);
  const res = await t.request.patch('/api/auth/me').set('Cookie', user.cookie).send(body).expect(400);
  expect(res.body.error.code).toBe('validation_failed');
  expect(await rowOf(user.id)).toEqual(before);
});

it('when a vendor changes their name, then their role stays vendor', async () => {
  const vendor = await openStore(t.request);
  const res = await t.request.patch('/api/auth/me').set('Cookie', vendor.cookie).send({ name: 'Oak Carver' }).expect(200);
  expect(res.body.user).toMatchObject({ name: 'Oak Carver', role: 'vendor' });
});

it('when the name is empty, holds markup or a line break, or is missing, then it is a 400', async () => {
  const user = await registerUser(t.request);
  for (const body of [{ name: '' }, { name: '<b>Eve</b>' }, { name: 'Eve\nBob' }, {}]) {
    await t.request.patch('/api/auth/me').set('Cookie', user.cookie).send(body).expect(400);
  }
  expect((await rowOf(user.id)).name).not.toBe('');
});

it('when nobody is signed in, then it is a 401', async () => {
  await t.request.patch('/api/auth/me').send({ name: 'Nobody' }).expect(401);
});
