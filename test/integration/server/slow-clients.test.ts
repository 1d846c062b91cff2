import http from 'node:http';
import { startTestApp, type TestApp } from '../../support/app';
import { pngBytes } from '../../support/objects';
import { openRawConnection } from '../../support/raw-http';
import { registerUser } from '../../support/users';

let t: TestApp;
let url: string;
beforeAll(async () => {
  t = await startTestApp({ env: { HTTP_REQUEST_TIMEOUT_MS: '1000', RATE_LIMIT_AUTH_PER_MIN: '3' } });
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

it('an upload may take longer than HTTP_REQUEST_TIMEOUT_MS: it has the upload budget (sized for UPLOAD_MAX_BYTES on a slow link)', async () => {
  const user = await registerUser(t.request);
  const boundary = 'slow-upload';
  const file = pngBytes(4_000);
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\nContent-Type: image/png\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request(`${url}/api/uploads?visibility=private`, {
      method: 'POST',
      headers: { Cookie: user.cookie, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': body.length },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    // Eight slices 250 ms apart: the body takes about 2 s, twice the ordinary budget.
    const slice = Math.ceil(body.length / 8);
    let sent = 0;
    const send = setInterval(() => {
      req.write(body.subarray(sent, sent + slice));
      sent += slice;
      if (sent >= body.length) {
        clearInterval(send);
        req.end();
      }
    }, 250);
  });
  expect(status).toBe(201);
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
  // The auth bucket allows 3 a minute: registration and the test above spent two, this spends the last.
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
