import { startTestApp, type TestApp } from '../../support/app';
import { openRawConnection } from '../../support/raw-http';

let t: TestApp;
let url: string;
beforeAll(async () => {
  t = await startTestApp({ env: { HTTP_REQUEST_TIMEOUT_MS: '1000', RATE_LIMIT_AUTH_PER_MIN: '2' } });
  url = await t.listen();
});
afterAll(() => t.close());

const headersOf = (path: string, contentLength: number) =>
  `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n\r\n`;

it('when a client sends its headers and then dribbles a JSON body, it gets 408 request_timeout at HTTP_REQUEST_TIMEOUT_MS and the connection closes', async () => {
  const client = await openRawConnection(url);
  const started = Date.now();
  client.socket.write(headersOf('/api/vendors', 500));
  client.socket.write('{"storeName":"');
  // One byte every 100 ms: the body would take 50 s to arrive.
  const dribble = setInterval(() => {
    if (!client.socket.destroyed) client.socket.write('a');
  }, 100);
  try {
    const answer = await client.response(8_000);
    expect(answer?.status).toBe(408);
    expect(answer?.head).toMatch(/\r\nconnection: close/i);
    expect(JSON.parse(answer!.body)).toMatchObject({ error: { code: 'request_timeout', requestId: expect.any(String) } });
    const { at } = await client.closed;
    expect(at - started).toBeGreaterThanOrEqual(900);
    expect(at - started).toBeLessThan(5_000);
  } finally {
    clearInterval(dribble);
    client.socket.destroy();
  }
}, 15_000);

it('a body that arrives within the budget is served as usual, on a connection that stays open', async () => {
  const client = await openRawConnection(url);
  try {
    const body = JSON.stringify({ email: 'nobody@example.com', password: 'a wrong password' });
    client.socket.write(headersOf('/api/auth/login', Buffer.byteLength(body)) + body);
    const answer = await client.response(5_000);
    expect(answer?.status).toBe(401);
    expect(client.socket.destroyed).toBe(false);
  } finally {
    client.socket.destroy();
  }
});

it('when the rate limit refuses, the 429 arrives before the client has sent any of its body (the body is never read)', async () => {
  // The auth bucket allows 2 a minute: the test above spent one, this spends the other.
  await t.request.post('/api/auth/login').send({ email: 'nobody@example.com', password: 'a wrong password' }).expect(401);
  const client = await openRawConnection(url);
  try {
    client.socket.write(headersOf('/api/auth/login', 64));
    const answer = await client.response(3_000);
    expect(answer?.status).toBe(429);
    expect(answer?.head).toMatch(/\r\nretry-after: \d+/i);
    expect(JSON.parse(answer!.body)).toMatchObject({ error: { code: 'rate_limited' } });
  } finally {
    client.socket.destroy();
  }
});
