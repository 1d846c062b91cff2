import { randomUUID } from 'node:crypto';
import { type StoredBody, storeJsonBody } from '../../../server/lib/http/stored-body';
import type { ProductFilters } from '../../../server/modules/catalogue/catalogue.repository';
import { listKey, productKey, ResponseCache } from '../../../server/modules/catalogue/response-cache';

const filtersOf = (category: string) => ({ category }) as Omit<ProductFilters, 'limit' | 'sort'>;
const keyOf = (category: string) => listKey({ sort: 'newest', limit: 100, category } as ProductFilters, undefined);
let empty: StoredBody;
const bodies = {} as Record<'old' | 'new' | 'y' | 'z' | 'w', StoredBody>;
beforeAll(async () => {
  empty = await storeJsonBody({});
  for (const name of ['old', 'new', 'y', 'z', 'w'] as const) bodies[name] = await storeJsonBody({ name });
});

it('a stock change drops exactly the lists holding the product, without scanning every cached list (3,000 pages of 100 items)', async () => {
  const cache = new ResponseCache({ ttlSeconds: 300, maxEntries: 10_000, maxBytes: 256 * 1024 * 1024 });
  const held = randomUUID();
  for (let i = 0; i < 3_000; i++) {
    const ids = Array.from({ length: 100 }, (_, k) => `00000000-0000-4000-8000-${String(i * 100 + k).padStart(12, '0')}`);
    if (i % 300 === 0) ids[50] = held;
    cache.set(keyOf(`c${i}`), empty, { filters: filtersOf(`c${i}`), ids }, cache.loadStarted());
  }
  cache.set(productKey(held), empty, undefined, cache.loadStarted());
  // An order of 50 lines: one stock invalidation per product (each scanned all 300,000 cached ids before: ~50 ms).
  const started = performance.now();
  for (let j = 0; j < 49; j++) cache.apply({ kind: 'product', productId: randomUUID(), facets: [] });
  cache.apply({ kind: 'product', productId: held, facets: [] });
  expect(performance.now() - started).toBeLessThan(100);
  expect(cache.get(productKey(held))).toBeUndefined();
  for (let i = 0; i < 3_000; i += 300) expect(cache.get(keyOf(`c${i}`))).toBeUndefined();
  expect(cache.get(keyOf('c1'))).toBe(empty);
  expect(cache.stats().keys).toBe(3_000 - 10);
});

it('a list page that left the cache (evicted, replaced) is no longer indexed under its old products', async () => {
  const cache = new ResponseCache({ ttlSeconds: 300, maxEntries: 2, maxBytes: 1024 * 1024 });
  const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
  cache.set(keyOf('x'), bodies.old, { filters: filtersOf('x'), ids: [a] }, cache.loadStarted());
  cache.set(keyOf('x'), bodies.new, { filters: filtersOf('x'), ids: [b] }, cache.loadStarted());
  cache.apply({ kind: 'product', productId: a, facets: [] });
  expect(cache.get(keyOf('x'))).toBe(bodies.new);
  cache.apply({ kind: 'product', productId: b, facets: [] });
  expect(cache.get(keyOf('x'))).toBeUndefined();
  // Evicted by two newer pages, then cached again under another product: the old product leaves it alone.
  cache.set(keyOf('y'), bodies.y, { filters: filtersOf('y'), ids: [c] }, cache.loadStarted());
  cache.set(keyOf('z'), bodies.z, { filters: filtersOf('z'), ids: [c] }, cache.loadStarted());
  cache.set(keyOf('w'), bodies.w, { filters: filtersOf('w'), ids: [a] }, cache.loadStarted());
  cache.apply({ kind: 'product', productId: c, facets: [] });
  expect(cache.get(keyOf('w'))).toBe(bodies.w);
  expect(cache.stats().keys).toBe(1);
});

it("the memory budget counts a list page's product ids, not only its JSON", async () => {
  // 1 MB: pages of 100 ids with a tiny body weigh ~12.8 KB each, so about 80 fit, not 10,000.
  const cache = new ResponseCache({ ttlSeconds: 300, maxEntries: 10_000, maxBytes: 1024 * 1024 });
  for (let i = 0; i < 1_000; i++) {
    cache.set(
      keyOf(`c${i}`),
      empty,
      { filters: filtersOf(`c${i}`), ids: Array.from({ length: 100 }, () => randomUUID()) },
      cache.loadStarted(),
    );
  }
  expect(cache.stats().keys).toBeLessThanOrEqual(90);
  expect(cache.stats().keys).toBeGreaterThan(50);
});

const limits = { ttlSeconds: 60, maxEntries: 100, maxBytes: 1024 * 1024 };

it('when an invalidation arrives while an answer is being loaded, that answer is sent but not stored', async () => {
  const cache = new ResponseCache(limits);
  const started = cache.loadStarted();
  // Another instance's write lands between the read of the rows and the store.
  cache.apply({ kind: 'product', productId: 'p1', facets: [] });
  cache.set('product:p1', await storeJsonBody({ product: { id: 'p1', title: 'old' } }), undefined, started);
  expect(cache.get('product:p1')).toBeUndefined();

  const again = cache.loadStarted();
  const fresh = await storeJsonBody({ product: { id: 'p1', title: 'new' } });
  cache.set('product:p1', fresh, undefined, again);
  expect(cache.get('product:p1')).toBe(fresh);
});

it('a flush (missed broadcasts) also keeps a load that started before it from being stored', async () => {
  const cache = new ResponseCache(limits);
  const started = cache.loadStarted();
  cache.flush();
  cache.set('vendor:v1', await storeJsonBody({ vendor: { id: 'v1' } }), undefined, started);
  expect(cache.get('vendor:v1')).toBeUndefined();
});

describe('load: one load per key for concurrent misses', () => {
  const deferred = <T>() => {
    let resolve!: (value: T) => void;
    const promise = new Promise<T>((r) => {
      resolve = r;
    });
    return { promise, resolve };
  };

  it('concurrent misses of one key share one loader call, then the next read is a hit', async () => {
    const cache = new ResponseCache(limits);
    const pending = deferred<{ body: StoredBody }>();
    const loader = jest.fn(() => pending.promise);
    const first = cache.load('product:p1', loader);
    const second = cache.load('product:p1', loader);
    pending.resolve({ body: bodies.new });
    expect(await first).toEqual({ body: bodies.new, hit: false });
    expect(await second).toEqual({ body: bodies.new, hit: false });
    expect(loader).toHaveBeenCalledTimes(1);
    expect(await cache.load('product:p1', loader)).toEqual({ body: bodies.new, hit: true });
  });

  it('a miss after an invalidation does not join a load that started before it: it loads afresh, and the old answer is not stored', async () => {
    const cache = new ResponseCache(limits);
    const before = deferred<{ body: StoredBody }>();
    const stale = cache.load('product:p1', () => before.promise);
    // The vendor's write commits while the first read's rows are on their way.
    cache.apply({ kind: 'product', productId: 'p1', facets: [] });
    const fresh = cache.load('product:p1', async () => ({ body: bodies.new }));
    before.resolve({ body: bodies.old });
    expect((await fresh).body).toBe(bodies.new);
    expect((await stale).body).toBe(bodies.old);
    expect(cache.get('product:p1')).toBe(bodies.new);
  });
});
