import pg from 'pg';
import { loadConfig } from '../../../server/lib/config';
import { type RunningServer, startServer } from '../../../server/runtime';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { captureLogger } from '../../support/logger';

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
  it('by default: keep-alive 65 s (above an ALB 60 s idle timeout), headers 1 s above it, a whole request 300 s', async () => {
    running = await start();
    expect(running.server).toMatchObject({ keepAliveTimeout: 65_000, headersTimeout: 66_000, requestTimeout: 300_000 });
  });

  it('from HTTP_KEEP_ALIVE_TIMEOUT_MS and HTTP_REQUEST_TIMEOUT_MS', async () => {
    running = await start({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '120000', HTTP_REQUEST_TIMEOUT_MS: '200000' });
    expect(running.server).toMatchObject({ keepAliveTimeout: 120_000, headersTimeout: 121_000, requestTimeout: 200_000 });
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
