import http from 'node:http';
import { startTestApp, type TestApp } from '../../support/app';
import { waitForLog } from '../../support/logger';
import { pngBytes, registerVendor, upload } from '../../support/objects';
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
  expect(signedIn).toMatchObject({
    method: 'GET',
    route: '/api/auth/me',
    status: 200,
    userId: user.id,
    requestId: res.headers['x-request-id'],
  });
  expect(typeof signedIn!.durationMs).toBe('number');
  expect(anonymous).toMatchObject({ method: 'GET', route: '/api/products/:id', status: 404 });
  expect(anonymous!.userId).toBeUndefined();
});

it('a download its client abandons half-way is still logged and measured, marked aborted', async () => {
  const vendor = await registerVendor(t);
  const uploaded = await upload(t, vendor, pngBytes(4 * 1024 * 1024), { visibility: 'public', filename: 'big.png' }).expect(201);
  const base = await t.listen();
  await new Promise<void>((resolve, reject) => {
    const req = http.get(`${base}${uploaded.body.url}`, (res) => {
      // Read the first chunk, then hang up: the server's response never finishes.
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
  });
  const line = await waitForLog(t.logs, (e) => e.message === '[HTTP] request' && e.route === '/objects/public/*path' && e.aborted === true);
  expect(line).toMatchObject({ method: 'GET', status: 200 });
  const metrics = await t.request.get('/metrics').expect(200);
  expect(metrics.text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/objects\/public\/\*path",status="200"\} [1-9]/);
});
