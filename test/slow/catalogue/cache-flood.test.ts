import { startTestApp, type TestApp } from '../../support/app';

/*
 * The red-team finding as it was found: 10,050 distinct anonymous list URLs against the default
 * 10,000-entry cache, after which nothing new was cached. Slow suite: ten thousand real requests
 * (each a cache miss, a rate-limiter write and a query) take about a minute on a busy machine.
 */
let t: TestApp;
let base: string;
beforeAll(async () => {
  t = await startTestApp();
  // A real listener: supertest on a bare handler opens a server per request.
  base = await t.listen();
});
afterAll(() => t.close());

async function cacheHeader(path: string): Promise<string | null> {
  const res = await fetch(`${base}${path}`);
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return res.headers.get('x-cache');
}

/** Requests every path, a few at a time. */
async function requestAll(paths: string[], parallel = 8): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < paths.length) await cacheHeader(paths[next++]!);
    }),
  );
}

const distinctLists = (from: number, count: number) => Array.from({ length: count }, (_v, i) => `/api/products?minPrice=${from + i}`);

it(
  'after 10,050 distinct list URLs a new one is still cached, and the least recently used ones were evicted',
  async () => {
    const oldest = '/api/products?category=oldest';
    const reread = '/api/products?category=reread';
    await cacheHeader(oldest);
    await cacheHeader(reread);
    await requestAll(distinctLists(1, 5_000));
    // Read again half-way: now more recently used than everything before it.
    expect(await cacheHeader(reread)).toBe('HIT');
    await requestAll(distinctLists(5_001, 5_050));

    const fresh = '/api/products?category=after-the-flood';
    expect(await cacheHeader(fresh)).toBe('MISS');
    expect(await cacheHeader(fresh)).toBe('HIT');
    expect(await cacheHeader(reread)).toBe('HIT');
    expect(await cacheHeader(oldest)).toBe('MISS');
    const health = await t.request.get('/api/health').expect(200);
    expect(health.body.components.catalogue.cache.keys).toBe(10_000);
  },
  5 * 60_000,
);
