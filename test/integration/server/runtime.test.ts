import pg from 'pg';
import { loadConfig } from '../../../server/lib/config';
import { type RunningServer, startServer } from '../../../server/runtime';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { captureLogger, waitForLog } from '../../support/logger';
import { openRawConnection } from '../../support/raw-http';
import { waitFor } from '../../support/wait-for';

let testDb: TestDatabase;
let running: RunningServer | undefined;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterEach(async () => {
  await running?.shutdown('test over');
  running = undefined;
});
afterAll(async () => {
  await testDb.drop();
});

const capture = captureLogger('info');
function start(env: Record<string, string> = {}, url = testDb.url): Promise<RunningServer> {
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: url, PORT: '0', HOST: '127.0.0.1', ...env });
  return startServer(config, capture.logger);
}

describe('server timeouts for load balancers', () => {
  it("by default: keep-alive 65 s (above an ALB 60 s idle timeout), headers 1 s above it, Node's request timeout the upload budget, 4096 sockets", async () => {
    running = await start();
    expect(running.server).toMatchObject({
      keepAliveTimeout: 65_000,
      headersTimeout: 66_000,
      requestTimeout: 430_000,
      maxConnections: 4_096,
    });
  });

  it('from HTTP_KEEP_ALIVE_TIMEOUT_MS, UPLOAD_REQUEST_TIMEOUT_MS and HTTP_MAX_CONNECTIONS', async () => {
    running = await start({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '120000', UPLOAD_REQUEST_TIMEOUT_MS: '200000', HTTP_MAX_CONNECTIONS: '500' });
    expect(running.server).toMatchObject({
      keepAliveTimeout: 120_000,
      headersTimeout: 121_000,
      requestTimeout: 200_000,
      maxConnections: 500,
    });
  });

  it('past HTTP_MAX_CONNECTIONS a new socket is dropped unanswered (and logged); once one closes, a new one is served', async () => {
    running = await start({ HTTP_MAX_CONNECTIONS: '2' });
    const live = 'GET /api/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n';
    const first = await openRawConnection(running.url);
    const second = await openRawConnection(running.url);
    try {
      for (const held of [first, second]) {
        held.socket.write(live);
        expect((await held.response(5_000))?.status).toBe(200);
      }
      const extra = await openRawConnection(running.url);
      extra.socket.write(live);
      expect(await extra.response(3_000)).toBeUndefined();
      const { text } = await extra.closed;
      expect(text).toBe('');
      await waitForLog(capture.memory, /HTTP_MAX_CONNECTIONS \(2\) reached/);

      first.socket.destroy();
      await first.closed;
      const next = await waitFor('a free connection slot', async () => {
        const candidate = await openRawConnection(running!.url);
        candidate.socket.write(live);
        const answer = await candidate.response(2_000);
        candidate.socket.destroy();
        return answer?.status;
      });
      expect(next).toBe(200);
    } finally {
      first.socket.destroy();
      second.socket.destroy();
    }
  });
});

describe('before migrations finish', () => {
  it('routes answer 503 `starting` with Retry-After (never a 500), health explains, and 200 once migrations are applied', async () => {
    const empty = await createTestDatabase({ empty: true });
    // Another instance migrating: this one waits on the same advisory lock (server/db/migrate.ts).
    const other = new pg.Client({ connectionString: empty.url });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock(727001)');
      running = await start({}, empty.url);

      const products = await fetch(`${running.url}/api/products`);
      expect(products.status).toBe(503);
      expect(products.headers.get('retry-after')).toBe('2');
      expect(await products.json()).toMatchObject({ error: { code: 'starting' } });
      const signIn = await fetch(`${running.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'a@example.com', password: 'a long password' }),
      });
      expect(signIn.status).toBe(503);
      const ready = await fetch(`${running.url}/api/health/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ reasons: expect.arrayContaining(['migrations pending']) });

      await other.query('SELECT pg_advisory_unlock(727001)');
      await running.ready;
      expect((await fetch(`${running.url}/api/products`)).status).toBe(200);
      expect((await fetch(`${running.url}/api/health/ready`)).status).toBe(200);
      // Waiting for migrations on a first boot is expected: logged, but never as an error.
      expect(capture.memory.entries.map((e) => String(e.message))).toContainEqual(
        expect.stringMatching(/\[SESSION-STORE\] Waiting for migrations/),
      );
      expect(capture.memory.entries.filter((e) => e.level === 'error').map((e) => e.message)).toEqual([]);
    } finally {
      await other.end();
      await running?.shutdown('test over');
      running = undefined;
      await empty.drop();
    }
  });
});
