import { startTestApp, type TestApp } from '../../support/app';
import { registerUser } from '../../support/users';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const accessLines = (t: TestApp) => t.logs.entries.filter((e) => e.message === '[HTTP] request');

it('every request gets one access-log entry with method, route pattern, status, duration, request id and user id', async () => {
  const user = await registerUser(t.request);
  const before = accessLines(t).length;
  const res = await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200);
  await t.request.get('/api/products/00000000-0000-4000-8000-000000000000').expect(404);
  const [signedIn, anonymous] = accessLines(t).slice(before);
  expect(signedIn).toMatchObject({ method: 'GET', route: '/api/auth/me', status: 200, userId: user.id, requestId: res.headers['x-request-id'] });
  expect(typeof signedIn!.durationMs).toBe('number');
  expect(anonymous).toMatchObject({ method: 'GET', route: '/api/products/:id', status: 404 });
  expect(anonymous!.userId).toBeUndefined();
});
