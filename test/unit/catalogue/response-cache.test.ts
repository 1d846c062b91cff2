import { storeJsonBody } from '../../../server/lib/http/stored-body';
import { ResponseCache } from '../../../server/modules/catalogue/response-cache';

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
