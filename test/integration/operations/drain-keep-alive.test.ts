import { createTestDatabase, type TestDatabase } from '../../support/database';
import { keepAliveLoad } from '../../support/keep-alive-load';
import { type ServerProcess, spawnServer } from '../../support/server-process';

let testDb: TestDatabase;
const running = new Set<ServerProcess>();
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  for (const s of running) s.kill('SIGKILL');
  await testDb.drop();
});

async function start(env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = await spawnServer({
    DATABASE_URL: testDb.url,
    RATE_LIMIT_READS_PER_MIN: '100000',
    RATE_LIMIT_WRITES_PER_MIN: '100000',
    ...env,
  });
  running.add(server);
  void server.exited.then(() => running.delete(server));
  await server.waitForOutput('[SERVER] Ready at', 30_000);
  return server;
}

it('SIGTERM under 200 keep-alive callers sending back to back: no request reset or refused, all 2xx, exit 0', async () => {
  const server = await start();
  let signalled = false;
  const outcomes = await keepAliveLoad(server.url, {
    clients: 200,
    path: '/api/products',
    onSteady: () => {
      signalled = true;
      server.kill('SIGTERM');
    },
  });
  expect(signalled).toBe(true);
  expect(outcomes.filter((o) => o.status < 200 || o.status > 299)).toEqual([]);
  // Every caller was told to close rather than finding its connection gone.
  expect(outcomes.filter((o) => o.connection === 'close')).toHaveLength(200);
  const { code } = await server.exited;
  expect(code).toBe(0);
  expect(server.output()).not.toMatch(/forcing exit|\[SHUTDOWN\] Failed|Unhandled/);
}, 60_000);

it('during the drain delay readiness answers 503 while other requests still get 200; the listener closes after it', async () => {
  const server = await start({ SHUTDOWN_DRAIN_DELAY_MS: '2000' });
  expect((await fetch(`${server.url}/api/health/ready`)).status).toBe(200);
  const signalledAt = Date.now();
  server.kill('SIGTERM');
  await server.waitForOutput('[SHUTDOWN] Not ready; serving for 2000 ms');

  const ready = await fetch(`${server.url}/api/health/ready`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toMatchObject({ ready: false, reasons: expect.arrayContaining(['shutting down']) });
  const products = await fetch(`${server.url}/api/products`);
  expect(products.status).toBe(200);
  // Clients are told to reconnect, which lands on another instance once routing has moved.
  expect(products.headers.get('connection')).toBe('close');
  expect(server.output()).not.toContain('[SHUTDOWN] Closing the listener');

  const { code } = await server.exited;
  expect(code).toBe(0);
  expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(2_000);
  expect(server.output()).toContain('[SHUTDOWN] Done');
}, 60_000);
