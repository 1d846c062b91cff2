import { createTestDatabase, type TestDatabase } from '../../support/database';
import { type FakeBrevo, startFakeBrevo } from '../../support/fake-brevo';
import { type ServerProcess, spawnServer } from '../../support/server-process';

/*
 * A deploy while the mail provider hangs: the send's own deadline ends the call, the job goes
 * back to the queue, the process exits 0 within its shutdown budget, and the next process
 * delivers the mail, once.
 */
let testDb: TestDatabase;
let brevo: FakeBrevo;
const servers: ServerProcess[] = [];
beforeAll(async () => {
  testDb = await createTestDatabase();
  brevo = await startFakeBrevo();
});
afterAll(async () => {
  for (const s of servers) s.kill('SIGKILL');
  await brevo.close();
  await testDb.drop();
});

const env = () => ({
  DATABASE_URL: testDb.url,
  BREVO_API_KEY: 'xkeysib-test-key',
  BREVO_API_URL: `${brevo.url}/v3`,
  EMAIL_SEND_TIMEOUT_S: '2',
  EMAIL_RETRY_DELAY_S: '1',
  EMAIL_RETRY_BACKOFF: 'false',
  JOBS_POLL_INTERVAL_MS: '500',
  JOBS_SHUTDOWN_TIMEOUT_MS: '3000',
  SHUTDOWN_TIMEOUT_MS: '6000',
});

async function start(): Promise<ServerProcess> {
  const server = await spawnServer(env());
  servers.push(server);
  await server.waitForOutput('[SERVER] Ready at', 30_000);
  return server;
}

it('SIGTERM while the provider takes 30 s per mail: exit 0 within SHUTDOWN_TIMEOUT_MS, and the next start delivers the mail once', async () => {
  brevo.setDelay(30_000);
  const first = await start();
  const email = `deploy-${Date.now()}@example.com`;
  const registered = await fetch(`${first.url}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: first.url },
    body: JSON.stringify({ email, password: 'a long password', name: 'Patient' }),
  });
  expect(registered.status).toBe(201);
  await brevo.waitForRequests(1, (r) => r.path === '/v3/smtp/email' && r.text.includes(email));

  const signalled = Date.now();
  first.kill('SIGTERM');
  const exit = await first.exited;
  expect(exit).toEqual({ code: 0, signal: null });
  expect(Date.now() - signalled).toBeLessThan(6_000);
  expect(brevo.delivered().filter((m) => m.to === email)).toEqual([]);

  brevo.setDelay(0);
  const second = await start();
  // Registration queues two mails: the welcome and the verification link.
  const delivered = await brevo.waitForDelivered(2, email, 20_000);
  expect(delivered.map((m) => m.to)).toEqual([email, email]);
  second.kill('SIGTERM');
  expect((await second.exited).code).toBe(0);
  // Exactly one accepted send of each mail across both processes.
  expect(
    brevo
      .delivered()
      .filter((m) => m.to === email)
      .map((m) => m.subject)
      .sort(),
  ).toEqual(['Confirm your e-mail address', 'Welcome to the marketplace']);
}, 90_000);
