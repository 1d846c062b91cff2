import http from 'node:http';
import zlib from 'node:zlib';
import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';

/*
 * Cached catalogue answers are stored serialised (and compressed) and sent as those bytes, with a
 * strong ETag, conditional GET and Cache-Control a CDN can use. Read over plain node:http: the
 * test needs the bytes on the wire, which supertest would decompress and parse.
 */
let t: TestApp;
let baseUrl: string;
let vendor: Vendor;
beforeAll(async () => {
  t = await startTestApp({ env: { CATALOGUE_CACHE_MAX_AGE_S: '7', CATALOGUE_CACHE_SWR_S: '70' } });
  baseUrl = await t.listen();
  vendor = await openStore(t.request);
});
afterAll(() => t.close());

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  bytes: Buffer;
}

function get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${baseUrl}${path}`, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

const identity = { 'Accept-Encoding': 'identity' };
const strongEtag = /^"[A-Za-z0-9_-]+"$/;

/** A list page well over a kilobyte (small bodies are not worth compressing). */
async function bigList(category: string): Promise<string> {
  for (let i = 0; i < 6; i++) await listProduct(t.request, vendor, { category, description: `A sturdy ${category} item. `.repeat(20) });
  return `/api/products?category=${category}`;
}

it('a HIT sends byte for byte the body the MISS sent, with the same strong ETag and Content-Length', async () => {
  const product = await listProduct(t.request, vendor);
  for (const path of [`/api/products/${product.id}`, `/api/products?vendorId=${vendor.vendorId}`, `/api/vendors/${vendor.vendorId}`]) {
    const miss = await get(path, identity);
    const hit = await get(path, identity);
    expect([miss.status, miss.headers['x-cache'], hit.status, hit.headers['x-cache']]).toEqual([200, 'MISS', 200, 'HIT']);
    expect(hit.bytes.equals(miss.bytes)).toBe(true);
    expect(miss.headers.etag).toMatch(strongEtag);
    expect(hit.headers.etag).toBe(miss.headers.etag);
    expect(hit.headers['content-length']).toBe(String(hit.bytes.length));
    expect(hit.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(hit.headers['content-encoding']).toBeUndefined();
    expect(hit.headers.vary).toBe('Accept-Encoding');
    expect(JSON.parse(hit.bytes.toString('utf8'))).toEqual((await t.request.get(path).expect(200)).body);
  }
});

it('br and gzip variants decode to the same JSON; br is preferred, q values and q=0 are respected', async () => {
  const path = await bigList('lanterns');
  const plain = await get(path, identity);
  expect(plain.bytes.length).toBeGreaterThan(1024);
  const cases: Array<[string, string | undefined]> = [
    ['gzip, deflate, br', 'br'],
    ['br;q=0.5, gzip', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['*', 'br'],
    ['gzip;q=0, br;q=0', undefined],
    ['deflate', undefined],
  ];
  for (const [acceptEncoding, coding] of cases) {
    const res = await get(path, { 'Accept-Encoding': acceptEncoding });
    expect([acceptEncoding, res.status, res.headers['x-cache'], res.headers['content-encoding']]).toEqual([
      acceptEncoding,
      200,
      'HIT',
      coding,
    ]);
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(res.headers['content-length']).toBe(String(res.bytes.length));
    const body = coding === 'br' ? zlib.brotliDecompressSync(res.bytes) : coding === 'gzip' ? zlib.gunzipSync(res.bytes) : res.bytes;
    expect(body.equals(plain.bytes)).toBe(true);
    if (coding) expect(res.bytes.length).toBeLessThan(plain.bytes.length);
    // Each variant is its own representation, so it has its own strong ETag.
    expect(res.headers.etag).toBe(coding ? `${plain.headers.etag!.slice(0, -1)}-${coding}"` : plain.headers.etag);
  }
});

it('a compressed MISS stores and sends the bytes the next HIT sends', async () => {
  const path = await bigList('kettles');
  const miss = await get(path, { 'Accept-Encoding': 'gzip, br' });
  const hit = await get(path, { 'Accept-Encoding': 'gzip, br' });
  expect([miss.headers['x-cache'], miss.headers['content-encoding'], hit.headers['x-cache']]).toEqual(['MISS', 'br', 'HIT']);
  expect(hit.bytes.equals(miss.bytes)).toBe(true);
  expect(hit.headers.etag).toBe(miss.headers.etag);
});

it('If-None-Match naming the ETag → 304 with no body, the ETag and the cache headers', async () => {
  const product = await listProduct(t.request, vendor);
  const path = `/api/products/${product.id}`;
  const first = await get(path, identity);
  const etag = first.headers.etag!;
  for (const condition of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
    const res = await get(path, { ...identity, 'If-None-Match': condition });
    expect([condition, res.status, res.bytes.length]).toEqual([condition, 304, 0]);
    expect(res.headers.etag).toBe(etag);
    expect(res.headers['cache-control']).toBe('public, max-age=7, stale-while-revalidate=70');
    expect(res.headers.vary).toBe('Accept-Encoding');
  }
  // Another validator, or the same content asked in another encoding, gets the body.
  expect((await get(path, { ...identity, 'If-None-Match': '"something-else"' })).status).toBe(200);
  const list = await bigList('candles');
  const plain = await get(list, identity);
  const compressed = await get(list, { 'Accept-Encoding': 'gzip', 'If-None-Match': plain.headers.etag! });
  expect([compressed.status, compressed.headers['content-encoding']]).toEqual([200, 'gzip']);
  expect((await get(list, { 'Accept-Encoding': 'gzip', 'If-None-Match': compressed.headers.etag! })).status).toBe(304);
});

it('after a product write the ETag changes: the old one gets the new body, not a 304', async () => {
  const product = await listProduct(t.request, vendor, { category: 'clocks' });
  const detail = `/api/products/${product.id}`;
  const list = '/api/products?category=clocks';
  const before = { detail: (await get(detail, identity)).headers.etag!, list: (await get(list, identity)).headers.etag! };
  await t.request.patch(detail).set('Cookie', vendor.cookie).send({ title: 'Wall clock' }).expect(200);
  for (const [path, etag] of [
    [detail, before.detail],
    [list, before.list],
  ] as const) {
    const res = await get(path, { ...identity, 'If-None-Match': etag });
    expect([res.status, res.headers['x-cache']]).toEqual([200, 'MISS']);
    expect(res.headers.etag).toMatch(strongEtag);
    expect(res.headers.etag).not.toBe(etag);
    expect(res.bytes.toString('utf8')).toContain('Wall clock');
  }
});

it('anonymous answers are public for CDNs (max-age and stale-while-revalidate from config); signed-in ones are private', async () => {
  const product = await listProduct(t.request, vendor);
  const path = `/api/products/${product.id}`;
  const anonymous = await get(path, identity);
  expect(anonymous.headers['cache-control']).toBe('public, max-age=7, stale-while-revalidate=70');
  const signedIn = await get(path, { ...identity, Cookie: vendor.cookie });
  expect(signedIn.headers['cache-control']).toBe('private, no-store');
  // The body does not depend on who asks: the same stored answer serves both.
  expect([signedIn.headers['x-cache'], signedIn.headers.etag]).toEqual(['HIT', anonymous.headers.etag]);
  expect(signedIn.bytes.equals(anonymous.bytes)).toBe(true);
  const revalidated = await get(path, { ...identity, Cookie: vendor.cookie, 'If-None-Match': anonymous.headers.etag! });
  expect([revalidated.status, revalidated.headers['cache-control']]).toEqual([304, 'private, no-store']);
  // Errors are not cached and carry no public Cache-Control.
  const missing = await get('/api/products/00000000-0000-4000-8000-000000000000', identity);
  expect(missing.status).toBe(404);
  expect(missing.headers['cache-control'] ?? '').not.toContain('public');
});

it('with the default configuration, anonymous answers may be held 30 s and served stale for 300 s while revalidating', async () => {
  const defaults = await startTestApp({ testDatabase: t.testDatabase });
  try {
    const res = await defaults.request.get(`/api/vendors/${vendor.vendorId}`).expect(200);
    expect(res.headers['cache-control']).toBe('public, max-age=30, stale-while-revalidate=300');
  } finally {
    await defaults.close();
  }
});
