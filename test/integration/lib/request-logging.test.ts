import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createJsonAccessLog } from '../../../server/lib/access-log';
import { startTestApp, type TestApp } from '../../support/app';
import { captureLogger, waitForLog } from '../../support/logger';
import { openRawConnection } from '../../support/raw-http';
import { registerUser } from '../../support/users';
import { waitFor } from '../../support/wait-for';

const accessLines = (t: TestApp) => t.logs.entries.filter((e) => e.message === '[HTTP] request');

describe('when the level drops the access line (LOG_LEVEL warn)', () => {
  const capture = captureLogger('warn');
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ capture });
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it('then requests that never log build no per-request logger and no access entry', async () => {
    // Spies that call through: they count what winston is asked to do, and change nothing.
    const children = jest.spyOn(capture.logger, 'child');
    const infoLines = jest.spyOn(capture.logger, 'info');
    for (let i = 0; i < 20; i++) {
      const res = await t.request.get('/api/products').expect(200);
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      await t.request.get('/api/no-such-thing').expect(404);
    }
    expect(children).not.toHaveBeenCalled();
    expect(infoLines).not.toHaveBeenCalled();
    expect(accessLines(t)).toHaveLength(0);
  });
});

describe('when the level keeps the access line (LOG_LEVEL info, the default)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ capture: captureLogger('info'), env: { HTTP_REQUEST_TIMEOUT_MS: '1000' } });
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
      level: 'info',
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

describe('when production writes the access line as JSON (pino, as runtime.ts wires it)', () => {
  let t: TestApp;
  let dir: string;
  let file: string;
  let accessLog: ReturnType<typeof createJsonAccessLog>;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'access-log-'));
    file = path.join(dir, 'access.log');
    accessLog = createJsonAccessLog({ level: 'info', destination: file });
    t = await startTestApp({ deps: { accessLog } });
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("then each request is one JSON line with the fields of the logger's lines and the request's", async () => {
    const user = await registerUser(t.request);
    await t.request.get('/api/auth/me').set('Cookie', user.cookie).set('X-Request-Id', 'trace-43').expect(200);
    const line = await waitFor('the access line in the file', async () => {
      accessLog!.flush();
      const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
      return lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.requestId === 'trace-43');
    });
    expect(line).toMatchObject({
      level: 'info',
      message: '[HTTP] request',
      service: 'marketplace',
      component: 'HTTP',
      method: 'GET',
      route: '/api/auth/me',
      status: 200,
      durationMs: expect.any(Number),
      ip: expect.stringMatching(/127\.0\.0\.1/),
      userId: user.id,
    });
    expect(new Date(line.timestamp as string).getTime()).not.toBeNaN();
    // None of it goes through winston.
    expect(accessLines(t)).toHaveLength(0);
  });

  it("then a quiet server's line reaches the file within a second or so, without a flush", async () => {
    await t.request.get('/api/products').set('X-Request-Id', 'quiet-1').expect(200);
    await waitFor(
      'the buffered line to be written out by the periodic flush',
      async () => (await readFile(file, 'utf8')).includes('"requestId":"quiet-1"'),
      { timeoutMs: 5_000 },
    );
  });

  it('then LOG_LEVEL warn writes no access line at all', () => {
    expect(createJsonAccessLog({ level: 'warn', destination: file })).toBeUndefined();
  });
});
