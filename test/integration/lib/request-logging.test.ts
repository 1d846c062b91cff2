import { startTestApp, type TestApp } from '../../support/app';
import { captureLogger, waitForLog } from '../../support/logger';
import { openRawConnection } from '../../support/raw-http';
import { registerUser } from '../../support/users';

const accessLines = (t: TestApp) => t.logs.entries.filter((e) => e.message === '[HTTP] request');

describe('when the level drops the access line (LOG_LEVEL info, the default)', () => {
  const capture = captureLogger('info');
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ capture, env: { HTTP_REQUEST_TIMEOUT_MS: '1000' } });
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it('then requests that never log build no per-request logger and no access entry', async () => {
    // Spies that call through: they count what winston is asked to do, and change nothing.
    const children = jest.spyOn(capture.logger, 'child');
    const httpLines = jest.spyOn(capture.logger, 'http');
    for (let i = 0; i < 20; i++) {
      const res = await t.request.get('/api/products').expect(200);
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      await t.request.get('/api/no-such-thing').expect(404);
    }
    expect(children).not.toHaveBeenCalled();
    expect(httpLines).not.toHaveBeenCalled();
    expect(accessLines(t)).toHaveLength(0);
  });

  it('then a request that does log still stamps its line with its request id', async () => {
    const base = await t.listen();
    const client = await openRawConnection(base);
    try {
      client.socket.write(
        'POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: slow-client-1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":',
      );
      const answer = await client.response(8_000);
      expect(answer?.status).toBe(408);
      const line = await waitForLog(t.logs, /did not arrive in time/);
      expect(line).toMatchObject({ level: 'info', requestId: 'slow-client-1' });
    } finally {
      client.socket.destroy();
    }
  }, 15_000);
});

describe('when the level keeps the access line (LOG_LEVEL http)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ capture: captureLogger('http') });
  });
  afterAll(() => t.close());

  it('then each request gets one line with method, route pattern, status, duration, client IP, request id and user id', async () => {
    const user = await registerUser(t.request);
    const before = accessLines(t).length;
    const res = await t.request.get('/api/auth/me').set('Cookie', user.cookie).set('X-Request-Id', 'trace-42').expect(200);
    expect(res.headers['x-request-id']).toBe('trace-42');
    const lines = accessLines(t).slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'http',
      method: 'GET',
      route: '/api/auth/me',
      status: 200,
      durationMs: expect.any(Number),
      ip: expect.stringMatching(/127\.0\.0\.1/),
      requestId: 'trace-42',
      userId: user.id,
    });
    // Never the cookie, the query string or the session id.
    expect(JSON.stringify(lines[0])).not.toContain(user.cookie.slice('sid='.length));
  });
});
