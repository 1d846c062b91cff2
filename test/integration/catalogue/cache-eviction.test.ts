import { startTestApp, type TestApp } from '../../support/app';
import { openStore } from '../../support/catalogue';

/*
 * The response cache evicts the least recently used answers instead of refusing new ones once
 * full. The default 10,000-entry cap is flooded for real in test/slow/catalogue/cache-flood.test.ts.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const cacheHeader = async (path: string) => (await t.request.get(path).expect(200)).headers['x-cache'];

it('once CACHE_MAX_ENTRIES distinct lists are cached, a new one is still cached and the least recently used went', async () => {
  const small = await startTestApp({ env: { CACHE_MAX_ENTRIES: '100' } });
  try {
    const header = async (path: string) => (await small.request.get(path).expect(200)).headers['x-cache'];
    await header('/api/products?category=oldest');
    await header('/api/products?category=reread');
    for (let i = 1; i <= 60; i++) await header(`/api/products?minPrice=${i}`);
    // Read again part-way: now more recently used than everything before it.
    expect(await header('/api/products?category=reread')).toBe('HIT');
    for (let i = 61; i <= 150; i++) await header(`/api/products?minPrice=${i}`);

    expect(await header('/api/products?category=new')).toBe('MISS');
    expect(await header('/api/products?category=new')).toBe('HIT');
    expect(await header('/api/products?category=reread')).toBe('HIT');
    expect(await header('/api/products?category=oldest')).toBe('MISS');
    expect((await small.request.get('/api/health').expect(200)).body.components.catalogue.cache.keys).toBe(100);
  } finally {
    await small.close();
  }
});

it('equivalent list URLs share one cache entry: parameter order, defaults, case and spacing of q, minPrice=0', async () => {
  const vendor = await openStore(t.request);
  const equivalents = [
    [`/api/products?vendorId=${vendor.vendorId}&sort=newest&limit=20`, `/api/products?limit=20&vendorId=${vendor.vendorId}`],
    [
      `/api/products?vendorId=${vendor.vendorId}&sort=price_asc&limit=5`,
      `/api/products?limit=005&sort=price_asc&minPrice=0&vendorId=${vendor.vendorId}`,
    ],
    ['/api/products?q=Oak%20%20Lamp&vendorId=' + vendor.vendorId, `/api/products?vendorId=${vendor.vendorId}&q=oak%20lamp%20`],
    [`/api/products?q=&vendorId=${vendor.vendorId}&sort=price_desc`, `/api/products?sort=price_desc&vendorId=${vendor.vendorId}&q=%20`],
  ];
  for (const [first, ...same] of equivalents) {
    expect(await cacheHeader(first!)).toBe('MISS');
    for (const path of same) expect(await cacheHeader(path)).toBe('HIT');
  }
  // Different filters stay different entries.
  expect(await cacheHeader(`/api/products?vendorId=${vendor.vendorId}&minPrice=1`)).toBe('MISS');
});

it('past CACHE_MAX_MB the least recently used answers go', async () => {
  const small = await startTestApp({ env: { CACHE_MAX_MB: '1' } });
  try {
    const vendor = await openStore(small.request);
    // 100 products of ~5 KB: a 100-item page is about half a megabyte.
    await small.database.pool.query(
      `INSERT INTO products (vendor_id, title, description, price_cents, stock)
       SELECT $1, 'Rug ' || g, repeat('wool ', 1000), 100 + g, 1 FROM generate_series(1, 100) g`,
      [vendor.vendorId],
    );
    const page = (sort: string) => `/api/products?limit=100&sort=${sort}`;
    for (const sort of ['newest', 'price_asc', 'price_desc']) expect((await small.request.get(page(sort))).headers['x-cache']).toBe('MISS');
    // Two pages fit in 1 MB: the first one asked for was evicted, the last is still there.
    expect((await small.request.get(page('price_desc'))).headers['x-cache']).toBe('HIT');
    expect((await small.request.get(page('newest'))).headers['x-cache']).toBe('MISS');
  } finally {
    await small.close();
  }
});
