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

function start(env: Record<string, string> = {}): Promise<RunningServer> {
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: testDb.url, PORT: '0', HOST: '127.0.0.1', ...env });
  return startServer(config, captureLogger('warn').logger);
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
