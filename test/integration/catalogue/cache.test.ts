import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';

let t: TestApp;
let vendor: Vendor;
beforeAll(async () => {
  t = await startTestApp();
  vendor = await openStore(t.request);
});
afterAll(() => t.close());

it('product detail, product lists and vendor pages are served MISS then HIT', async () => {
  const product = await listProduct(t.request, vendor);
  for (const path of [`/api/products/${product.id}`, `/api/products?vendorId=${vendor.vendorId}`, `/api/vendors/${vendor.vendorId}`]) {
    const first = await t.request.get(path).expect(200);
    expect(first.headers['x-cache']).toBe('MISS');
    const second = await t.request.get(path).expect(200);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toEqual(first.body);
  }
});

it('after a PATCH the next reads show the new value, in the detail and in every list holding it', async () => {
  const product = await listProduct(t.request, vendor, { category: 'teapots', priceCents: 2_000 });
  const detail = `/api/products/${product.id}`;
  const list = '/api/products?category=teapots';
  await t.request.get(detail);
  await t.request.get(list);
  expect((await t.request.get(detail)).headers['x-cache']).toBe('HIT');
  expect((await t.request.get(list)).headers['x-cache']).toBe('HIT');

  await t.request.patch(detail).set('Cookie', vendor.cookie).send({ title: 'Cast-iron teapot', priceCents: 2_500 }).expect(200);
  const freshDetail = await t.request.get(detail).expect(200);
  expect(freshDetail.headers['x-cache']).toBe('MISS');
  expect(freshDetail.body.product).toMatchObject({ title: 'Cast-iron teapot', priceCents: 2_500 });
  const freshList = await t.request.get(list).expect(200);
  expect(freshList.headers['x-cache']).toBe('MISS');
  expect(freshList.body.items.find((p: { id: string }) => p.id === product.id).title).toBe('Cast-iron teapot');
});

it('an id in upper case reads the same cache entries as the canonical one, so a PATCH leaves no stale copy behind', async () => {
  const product = await listProduct(t.request, vendor, { priceCents: 3_000 });
  const upperDetail = `/api/products/${product.id.toUpperCase()}`;
  const upperList = `/api/products?vendorId=${vendor.vendorId.toUpperCase()}`;
  expect((await t.request.get(upperDetail).expect(200)).body.product.priceCents).toBe(3_000);
  expect((await t.request.get(upperList).expect(200)).body.items.some((p: { id: string }) => p.id === product.id)).toBe(true);
  await t.request.patch(`/api/products/${product.id}`).set('Cookie', vendor.cookie).send({ priceCents: 3_100 }).expect(200);
  const added = await listProduct(t.request, vendor);
  expect((await t.request.get(upperDetail).expect(200)).body.product.priceCents).toBe(3_100);
  expect((await t.request.get(upperList).expect(200)).body.items.some((p: { id: string }) => p.id === added.id)).toBe(true);
});

it('a product moved into a category appears in that category’s cached list at once', async () => {
  const product = await listProduct(t.request, vendor, { category: 'mugs' });
  const cups = '/api/products?category=cups';
  expect((await t.request.get(cups)).body.items).toEqual([]);
  expect((await t.request.get(cups)).headers['x-cache']).toBe('HIT');
  await t.request.patch(`/api/products/${product.id}`).set('Cookie', vendor.cookie).send({ category: 'cups' }).expect(200);
  const after = await t.request.get(cups).expect(200);
  expect(after.body.items.map((p: { id: string }) => p.id)).toEqual([product.id]);
});

it('invalidation is precise: a write in one category leaves another category’s cached list alone', async () => {
  await listProduct(t.request, vendor, { category: 'spoons' });
  const forks = '/api/products?category=forks';
  await listProduct(t.request, vendor, { category: 'forks' });
  await t.request.get(forks);
  expect((await t.request.get(forks)).headers['x-cache']).toBe('HIT');
  await listProduct(t.request, vendor, { category: 'spoons' });
  expect((await t.request.get(forks)).headers['x-cache']).toBe('HIT');
});

it('a new product shows up in cached lists it matches and raises the vendor’s product count', async () => {
  const other = await openStore(t.request);
  const list = `/api/products?vendorId=${other.vendorId}`;
  const page = `/api/vendors/${other.vendorId}`;
  expect((await t.request.get(list)).body.items).toHaveLength(0);
  expect((await t.request.get(page)).body.vendor.productCount).toBe(0);
  const product = await listProduct(t.request, other);
  expect((await t.request.get(list)).body.items.map((p: { id: string }) => p.id)).toEqual([product.id]);
  expect((await t.request.get(page)).body.vendor.productCount).toBe(1);
});

it('a deleted product leaves cached lists and its cached detail', async () => {
  const product = await listProduct(t.request, vendor, { category: 'bowls' });
  const list = '/api/products?category=bowls';
  await t.request.get(list);
  await t.request.get(`/api/products/${product.id}`);
  await t.request.delete(`/api/products/${product.id}`).set('Cookie', vendor.cookie).expect(204);
  await t.request.get(`/api/products/${product.id}`).expect(404);
  expect((await t.request.get(list)).body.items).toEqual([]);
});

it('errors are not cached, and health reports hits, misses and keys', async () => {
  const missing = '/api/products/00000000-0000-4000-8000-000000000000';
  await t.request.get(missing).expect(404);
  const again = await t.request.get(missing).expect(404);
  expect(again.headers['x-cache']).toBeUndefined();
  const health = await t.request.get('/api/health').expect(200);
  const cache = health.body.components.catalogue.cache;
  expect(cache.hits).toBeGreaterThan(0);
  expect(cache.misses).toBeGreaterThan(0);
  expect(cache.keys).toBeGreaterThan(0);
  const metrics = await t.request.get('/metrics').expect(200);
  expect(metrics.text).toMatch(new RegExp(`marketplace_cache_lookups_total\\{result="hit"\\} ${cache.hits}`));
});
