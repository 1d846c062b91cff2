import http from 'node:http';
import zlib from 'node:zlib';
import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { pngBytes, upload } from '../../support/objects';
import { placeCardOrder } from '../../support/orders';
import { registerUser, type SignedInUser } from '../../support/users';

/*
 * HTTP conventions every route follows: compression, ETag/304 on JSON reads, private no-store
 * for signed-in users, 405 with Allow. Read over plain node:http: the tests need the bytes on
 * the wire, which supertest would decompress.
 */
let t: TestApp;
let baseUrl: string;
let vendor: Vendor;
let buyer: SignedInUser;
let productId: string;
beforeAll(async () => {
  t = await startTestApp({ env: { ORDER_MAX_OPEN_UNPAID: '50' } });
  baseUrl = await t.listen();
  vendor = await openStore(t.request);
  buyer = await registerUser(t.request);
  productId = (await listProduct(t.request, vendor, { stock: 50 })).id;
  // Four orders: the buyer's order list is well over a kilobyte.
  for (let i = 0; i < 4; i++) await placeCardOrder(t.request, buyer, [{ productId, quantity: 1 }]);
});
afterAll(() => t.close());

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  bytes: Buffer;
}

function send(method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
const get = (path: string, headers: Record<string, string> = {}) => send('GET', path, headers);

function decode(answer: Answer): unknown {
  const coding = answer.headers['content-encoding'];
  const plain =
    coding === 'br' ? zlib.brotliDecompressSync(answer.bytes) : coding === 'gzip' ? zlib.gunzipSync(answer.bytes) : answer.bytes;
  return JSON.parse(plain.toString('utf8'));
}

describe('compression', () => {
  it('when a JSON reply is over 1 KiB, then it is sent as br or gzip per Accept-Encoding and decodes to the same JSON', async () => {
    const mine = { Cookie: buyer.cookie };
    const plain = await get('/api/orders', { ...mine, 'Accept-Encoding': 'identity' });
    expect(plain.status).toBe(200);
    expect(plain.bytes.length).toBeGreaterThan(1024);
    expect(plain.headers['content-encoding']).toBeUndefined();
    const br = await get('/api/orders', { ...mine, 'Accept-Encoding': 'gzip, deflate, br' });
    const gzip = await get('/api/orders', { ...mine, 'Accept-Encoding': 'gzip' });
    expect([br.headers['content-encoding'], gzip.headers['content-encoding']]).toEqual(['br', 'gzip']);
    expect(br.bytes.length).toBeLessThan(plain.bytes.length);
    expect(decode(br)).toEqual(JSON.parse(plain.bytes.toString('utf8')));
    expect(decode(gzip)).toEqual(JSON.parse(plain.bytes.toString('utf8')));
    expect(br.headers.vary).toContain('Accept-Encoding');
  });

  it('when a response is written by the route itself (the OpenAPI document), then the compression middleware compresses it', async () => {
    const plain = await get('/api/openapi.json', { 'Accept-Encoding': 'identity' });
    const br = await get('/api/openapi.json', { 'Accept-Encoding': 'br' });
    const gzip = await get('/api/openapi.json', { 'Accept-Encoding': 'gzip' });
    expect([br.headers['content-encoding'], gzip.headers['content-encoding']]).toEqual(['br', 'gzip']);
    expect(decode(br)).toEqual(JSON.parse(plain.bytes.toString('utf8')));
    expect(decode(gzip)).toEqual(JSON.parse(plain.bytes.toString('utf8')));
  });

  it('when a reply is under 1 KiB, then it is not compressed', async () => {
    const me = await get('/api/auth/me', { Cookie: buyer.cookie, 'Accept-Encoding': 'br, gzip' });
    expect(me.status).toBe(200);
    expect(me.bytes.length).toBeLessThan(1024);
    expect(me.headers['content-encoding']).toBeUndefined();
    const missing = await get('/api/no-such-thing', { 'Accept-Encoding': 'br, gzip' });
    expect([missing.status, missing.headers['content-encoding']]).toEqual([404, undefined]);
  });

  it('when an image is downloaded, or a range of it, then its bytes are sent as stored (never compressed), byte-exact', async () => {
    const image = pngBytes(64 * 1024);
    const uploaded = await upload(t, vendor, image, { visibility: 'public' }).expect(201);
    const url: string = uploaded.body.url;
    const whole = await get(url, { 'Accept-Encoding': 'br, gzip' });
    expect(whole.status).toBe(200);
    expect(whole.headers['content-encoding']).toBeUndefined();
    expect(whole.bytes.equals(image)).toBe(true);
    const range = await get(url, { 'Accept-Encoding': 'br, gzip', Range: 'bytes=1000-4999' });
    expect([range.status, range.headers['content-range'], range.headers['content-encoding']]).toEqual([
      206,
      `bytes 1000-4999/${image.length}`,
      undefined,
    ]);
    expect(range.bytes.equals(image.subarray(1000, 5000))).toBe(true);
  });
});

describe('ETag and 304 on JSON reads', () => {
  it('when If-None-Match names the ETag of a GET reply, then the answer is 304 with no body', async () => {
    const mine = { Cookie: buyer.cookie, 'Accept-Encoding': 'identity' };
    const first = await get('/api/auth/me', mine);
    expect(first.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await get('/api/auth/me', { ...mine, 'If-None-Match': first.headers.etag! });
    expect([again.status, again.bytes.length, again.headers.etag]).toEqual([304, 0, first.headers.etag]);
    // Another user's answer is other bytes: a different ETag, so no 304 with the first one's.
    const other = await registerUser(t.request);
    const theirs = await get('/api/auth/me', { Cookie: other.cookie, 'If-None-Match': first.headers.etag! });
    expect(theirs.status).toBe(200);
    expect(theirs.headers.etag).not.toBe(first.headers.etag);
  });

  it('when the reply is compressed, then its ETag names the compressed bytes, and a changed answer gets a new one', async () => {
    const mine = { Cookie: buyer.cookie };
    const br = await get('/api/orders', { ...mine, 'Accept-Encoding': 'br' });
    const plain = await get('/api/orders', { ...mine, 'Accept-Encoding': 'identity' });
    expect(br.headers.etag).not.toBe(plain.headers.etag);
    expect((await get('/api/orders', { ...mine, 'Accept-Encoding': 'br', 'If-None-Match': br.headers.etag! })).status).toBe(304);
    await placeCardOrder(t.request, buyer, [{ productId, quantity: 1 }]);
    const changed = await get('/api/orders', { ...mine, 'Accept-Encoding': 'br', 'If-None-Match': br.headers.etag! });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(br.headers.etag);
  });

  it('when the OpenAPI document (a route that writes its own body) is read again, then it has an ETag and If-None-Match gets a 304', async () => {
    const br = await get('/api/openapi.json', { 'Accept-Encoding': 'br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.etag).toMatch(/^"[A-Za-z0-9_-]+-br"$/);
    const again = await get('/api/openapi.json', { 'Accept-Encoding': 'br', 'If-None-Match': br.headers.etag! });
    expect([again.status, again.bytes.length]).toEqual([304, 0]);
    const plain = await get('/api/openapi.json', { 'Accept-Encoding': 'identity', 'If-None-Match': `W/${br.headers.etag}` });
    expect(plain.status).toBe(200);
  });

  it('when a write answers, then it carries no ETag', async () => {
    const res = await t.request
      .post(`/api/orders`)
      .set('Cookie', buyer.cookie)
      .send({ items: [{ productId, quantity: 1 }], paymentMethod: 'card' });
    expect(res.status).toBe(201);
    expect(res.headers.etag).toBeUndefined();
  });
});

describe('Cache-Control for signed-in users', () => {
  it('when a signed-in user is answered (replies, errors, 404s), then the answer says private, no-store', async () => {
    const mine = { Cookie: buyer.cookie };
    for (const path of ['/api/auth/me', '/api/orders', `/api/orders/00000000-0000-4000-8000-000000000000`, '/api/no-such-thing']) {
      const res = await get(path, mine);
      expect([path, res.headers['cache-control']]).toEqual([path, 'private, no-store']);
    }
    const invalid = await t.request.post('/api/orders').set('Cookie', buyer.cookie).send({ items: [] });
    expect([invalid.status, invalid.headers['cache-control']]).toEqual([400, 'private, no-store']);
    // The catalogue answers signed-in readers the same way (anonymous ones get its public policy).
    const product = await get(`/api/products/${productId}`, mine);
    expect(product.headers['cache-control']).toBe('private, no-store');
    const anonymous = await get(`/api/products/${productId}`);
    expect(anonymous.headers['cache-control']).toMatch(/^public, /);
  });

  it('when a route sets its own Cache-Control, or nobody is signed in, then it is left alone', async () => {
    const rates = await get('/api/health/live', { Cookie: buyer.cookie });
    expect(rates.headers['cache-control']).toBe('no-store');
    const anonymous = await get('/api/no-such-thing');
    expect(anonymous.headers['cache-control']).toBeUndefined();
  });
});

describe('405 Method Not Allowed', () => {
  it('when a known path is asked with a method it does not answer, then 405 with Allow in the shared error shape', async () => {
    const res = await t.request.delete('/api/products');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    expect(res.body).toEqual({ error: { code: 'method_not_allowed', message: expect.any(String), requestId: expect.any(String) } });
    const withParam = await t.request.put(`/api/orders/${productId}`);
    expect([withParam.status, withParam.headers.allow]).toEqual([405, 'GET, HEAD']);
    const download = await t.request.post('/objects/public/some/file.png');
    expect([download.status, download.headers.allow]).toEqual([405, 'GET, HEAD']);
  });

  it('when the path is unknown, then it stays 404; a plain OPTIONS on a known path gets Allow (Express answers it)', async () => {
    expect((await t.request.delete('/api/no-such-thing')).status).toBe(404);
    const options = await t.request.options('/api/orders');
    expect(options.headers.allow).toBe('GET, HEAD, POST');
    expect([200, 204]).toContain(options.status);
  });
});
