import http from 'node:http';
import { serverProcessesOnOwnDatabase } from '../../support/server-process';
import { sidCookie } from '../../support/session-cookie';
import { TestWsClient } from '../../support/ws-client';

const servers = serverProcessesOnOwnDatabase();

interface Outcome {
  status: number;
  connection?: string;
}

it('SIGTERM with 200 requests in flight: all complete, keep-alive clients told to close, WebSockets get 1001, exit 0 within 10 s', async () => {
  const server = await servers.spawn({
    RATE_LIMIT_READS_PER_MIN: '100000',
    RATE_LIMIT_WRITES_PER_MIN: '100000',
    RATE_LIMIT_AUTH_PER_MIN: '100000',
  });
  await server.waitForOutput('[SERVER] Ready at', 30_000);
  const url = new URL(server.url);

  const registered = await fetch(`${server.url}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'drain@example.com', password: 'a long password', name: 'Drain' }),
  });
  const socket = await TestWsClient.connect(server.url, { cookie: sidCookie(registered.headers.getSetCookie()) });
  const closed = new Promise<number>((resolve) => socket.socket.on('close', (code) => resolve(code)));

  // Expect: 100-continue: the server acknowledges each request before the body is sent, so
  // all 200 have provably reached it when the signal arrives.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
  const body = JSON.stringify({ title: 'x', priceCents: 1 });
  const inFlight = Array.from({ length: 200 }, () => {
    const req = http.request({
      agent,
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path: '/api/products',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
    });
    const outcome = new Promise<Outcome>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      });
      req.on('error', reject);
    });
    const acknowledged = new Promise<void>((resolve) => req.on('continue', () => resolve()));
    return { req, outcome, acknowledged };
  });
  await Promise.all(inFlight.map((r) => r.acknowledged));

  const signalledAt = Date.now();
  server.kill('SIGTERM');
  await server.waitForOutput('[SHUTDOWN] SIGTERM: draining');
  for (const r of inFlight) r.req.end(body);

  const outcomes = await Promise.all(inFlight.map((r) => r.outcome));
  expect(outcomes.filter((o) => o.status !== 401)).toEqual([]);
  expect(outcomes.filter((o) => o.connection !== 'close')).toEqual([]);
  expect(await closed).toBe(1001);
  const { code } = await server.exited;
  expect(code).toBe(0);
  expect(Date.now() - signalledAt).toBeLessThan(10_000);
  expect(server.output()).not.toMatch(/forcing exit|\[SHUTDOWN\] Failed|Unhandled/);
  expect(server.output()).toContain('[SHUTDOWN] Done');
  agent.destroy();
}, 60_000);
