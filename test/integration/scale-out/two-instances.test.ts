import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore } from '../../support/catalogue';

/*
 * Two app instances on one database behave as one (SPEC section 11). Sessions, rate limits and
 * chat are shown in their own suites; this one covers the response cache and first start.
 */
let a: TestApp;
let b: TestApp;
beforeAll(async () => {
  a = await startTestApp();
  b = await startTestApp({ testDatabase: a.testDatabase });
});
afterAll(async () => {
  await b.close();
  await a.close();
});

/** Reads on `t` until `accept` holds: the invalidation travels through Postgres asynchronously. */
async function readUntil(t: TestApp, path: string, accept: (body: Record<string, unknown>) => boolean, timeoutMs = 5_000) {
  const started = Date.now();
  for (;;) {
    const res = await t.request.get(path).expect(200);
    if (accept(res.body)) return { res, elapsedMs: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`${path} on the other instance stayed stale: ${JSON.stringify(res.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

it('a product edit on instance A makes instance B’s cached detail and lists fresh', async () => {
  const vendor = await openStore(a.request);
  const product = await listProduct(a.request, vendor, { title: 'Old title', category: 'clocks' });
  const detail = `/api/products/${product.id}`;
  const list = '/api/products?category=clocks';
  await b.request.get(detail).expect(200);
  await b.request.get(list).expect(200);
  expect((await b.request.get(detail)).headers['x-cache']).toBe('HIT');
  expect((await b.request.get(list)).headers['x-cache']).toBe('HIT');

  await a.request.patch(detail).set('Cookie', vendor.cookie).send({ title: 'New title' }).expect(200);
  const fresh = await readUntil(b, detail, (body) => (body.product as { title: string }).title === 'New title');
  expect(fresh.res.headers['x-cache']).toBe('MISS');
  await readUntil(b, list, (body) => (body.items as Array<{ title: string }>)[0]?.title === 'New title');
});

it('a session created on A is signed in on B, and a product listed through B is visible on A', async () => {
  const vendor = await openStore(a.request);
  await b.request.get('/api/auth/me').set('Cookie', vendor.cookie).expect(200);
  const list = `/api/products?vendorId=${vendor.vendorId}`;
  expect((await a.request.get(list)).body.items).toEqual([]);
  const product = await listProduct(b.request, vendor);
  await readUntil(a, list, (body) => (body.items as Array<{ id: string }>).some((p) => p.id === product.id));
});

it('both instances report their shared listener connected', async () => {
  for (const t of [a, b]) {
    const health = await t.request.get('/api/health').expect(200);
    expect(health.body.components.listener).toMatchObject({ status: 'ok', connected: true });
  }
});
