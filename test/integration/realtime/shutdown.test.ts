import { createTestDatabase, type TestDatabase } from '../../support/database';
import type { ServerProcess } from '../../support/server-process';
import { spawnServer } from '../../support/server-process';
import { sidCookie } from '../../support/session-cookie';
import { TestWsClient } from '../../support/ws-client';

describe('realtime on shutdown (real server process)', () => {
  let testDb: TestDatabase;
  let server: ServerProcess | undefined;
  beforeAll(async () => {
    testDb = await createTestDatabase();
  });
  afterAll(async () => {
    if (server?.child.exitCode === null) server.kill('SIGKILL');
    await testDb.drop();
  });

  it('on SIGTERM every WebSocket client receives close code 1001 and the process exits 0', async () => {
    server = await spawnServer({ DATABASE_URL: testDb.url });
    await server.waitForOutput('[SERVER] Ready at');
    const register = await fetch(`${server.url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ws-shutdown@example.com', password: 'a-long-password', name: 'Shut Down' }),
    });
    expect(register.status).toBe(201);
    const cookie = sidCookie(register.headers.getSetCookie());
    const tabs = [await TestWsClient.connect(server.url, { cookie }), await TestWsClient.connect(server.url, { cookie })];

    server.kill('SIGTERM');
    for (const tab of tabs) expect(await tab.closedWithin()).toEqual({ code: 1001, reason: 'Server shutting down' });
    expect((await server.exited).code).toBe(0);
    expect(server.output()).toContain('[WS] Closing 2 connections (1001)');
  });
});
