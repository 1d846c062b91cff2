import { randomBytes } from 'node:crypto';
import { type CatalogueModule, findVendorStanding } from '../../../server/modules/catalogue';
import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { registerUser } from '../../support/users';
import { waitFor } from '../../support/wait-for';

/*
 * Suspension, as the admin module drives it: `setVendorSuspended` inside the caller's unit of
 * work. A suspended store and its products vanish from every answer (cached ones included, on
 * every instance) and cannot be bought; its vendor can still read its own store, and write
 * nothing. Reinstated, everything returns.
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

const catalogueOf = (t: TestApp) => t.app.modules.find((m) => m.name === 'catalogue') as CatalogueModule;
const suspend = (t: TestApp, vendorId: string, suspended: boolean, at = new Date()) =>
  t.database.transaction((unit) => catalogueOf(t).setVendorSuspended(unit, vendorId, suspended, at));

/** Reads until `t` serves `path` from its cache (on B, the NOTIFY of A's writes may arrive after B's first read and drop it). */
const warm = (t: TestApp, path: string) =>
  waitFor(`${path} to be cached`, async () => (await t.request.get(path).expect(200)).headers['x-cache'] === 'HIT', {
    timeoutMs: 5_000,
    intervalMs: 20,
  });

interface Store {
  vendor: Vendor;
  productId: string;
  tag: string;
  paths: { list: string; vendorList: string; search: string; detail: string; page: string; stores: string };
}

async function storeWithProduct(): Promise<Store> {
  const tag = `s${randomBytes(4).toString('hex')}`;
  const vendor = await openStore(a.request, `Suspect ${tag}`);
  const product = await listProduct(a.request, vendor, { title: `Gadget ${tag}`, category: `cat-${tag}`, stock: 5 });
  return {
    vendor,
    productId: product.id,
    tag,
    paths: {
      list: '/api/products?limit=100',
      vendorList: `/api/products?vendorId=${vendor.vendorId}`,
      search: `/api/products?q=${tag}`,
      detail: `/api/products/${product.id}`,
      page: `/api/vendors/${vendor.vendorId}`,
      stores: `/api/vendors?q=${tag}`,
    },
  };
}

const categoryCount = async (t: TestApp, tag: string) =>
  ((await t.request.get('/api/categories').expect(200)).body.categories as Array<{ name: string; productCount: number }>).find(
    (c) => c.name === `cat-${tag}`,
  )?.productCount;
const listedIds = async (t: TestApp, path: string) =>
  ((await t.request.get(path).expect(200)).body.items as Array<{ id: string }>).map((item) => item.id);

it('a suspension drops every cached answer that shows the store or its products at once; reinstated, they all return', async () => {
  const { vendor, productId, tag, paths } = await storeWithProduct();
  for (const path of [paths.list, paths.vendorList, paths.search, paths.detail, paths.page, paths.stores, '/api/categories'])
    await warm(a, path);
  expect(await listedIds(a, paths.list)).toContain(productId);

  const at = new Date('2026-12-01T10:00:00.000Z');
  const changed = await suspend(a, vendor.vendorId, true, at);
  expect(changed).toEqual({
    before: { id: vendor.vendorId, userId: vendor.id, storeName: `Suspect ${tag}`, suspendedAt: null, productCount: 1 },
    after: { id: vendor.vendorId, userId: vendor.id, storeName: `Suspect ${tag}`, suspendedAt: at.toISOString(), productCount: 1 },
  });

  const list = await a.request.get(paths.list).expect(200);
  expect(list.headers['x-cache']).toBe('MISS');
  expect(list.body.items.map((p: { id: string }) => p.id)).not.toContain(productId);
  expect(await listedIds(a, paths.vendorList)).toEqual([]);
  expect(await listedIds(a, paths.search)).toEqual([]);
  await a.request.get(paths.detail).expect(404);
  await a.request.get(paths.page).expect(404);
  expect(await listedIds(a, paths.stores)).toEqual([]);
  expect(await categoryCount(a, tag)).toBeUndefined();
  // Its vendor still sees its store, and why.
  const own = await a.request.get('/api/vendors/me').set('Cookie', vendor.cookie).expect(200);
  expect(own.body.vendor).toMatchObject({ id: vendor.vendorId, suspendedAt: at.toISOString(), productCount: 1 });

  // Suspending again changes nothing, and keeps the first time.
  const again = await suspend(a, vendor.vendorId, true, new Date());
  expect(again?.after).toEqual(again?.before);
  expect(again?.after.suspendedAt).toBe(at.toISOString());
  expect((await findVendorStanding(a.database.db, vendor.vendorId))?.suspendedAt).toBe(at.toISOString());

  const reinstated = await suspend(a, vendor.vendorId, false, new Date());
  expect(reinstated?.after).toMatchObject({ suspendedAt: null, productCount: 1 });
  expect(await listedIds(a, paths.list)).toContain(productId);
  expect(await listedIds(a, paths.vendorList)).toEqual([productId]);
  expect(await listedIds(a, paths.search)).toEqual([productId]);
  await a.request.get(paths.detail).expect(200);
  await a.request.get(paths.page).expect(200);
  expect(await listedIds(a, paths.stores)).toEqual([vendor.vendorId]);
  expect(await categoryCount(a, tag)).toBe(1);
  expect((await a.request.get('/api/vendors/me').set('Cookie', vendor.cookie).expect(200)).body.vendor.suspendedAt).toBeNull();
});

it('while suspended its products cannot be bought, and its vendor can change neither its store nor its products (403 vendor_suspended)', async () => {
  const { vendor, productId } = await storeWithProduct();
  const buyer = await registerUser(a.request);
  await suspend(a, vendor.vendorId, true);

  const order = { items: [{ productId, quantity: 1 }], paymentMethod: 'card' };
  expect((await a.request.post('/api/orders').set('Cookie', buyer.cookie).send(order).expect(404)).body.error.code).toBe(
    'product_not_found',
  );
  const refusals = [
    a.request.post('/api/products').set('Cookie', vendor.cookie).send({ title: 'New', priceCents: 100 }),
    a.request.patch(`/api/products/${productId}`).set('Cookie', vendor.cookie).send({ stock: 50 }),
    a.request.delete(`/api/products/${productId}`).set('Cookie', vendor.cookie),
    a.request.patch('/api/vendors/me').set('Cookie', vendor.cookie).send({ storeName: 'Innocent' }),
  ];
  for (const refused of refusals) expect((await refused.expect(403)).body.error.code).toBe('vendor_suspended');
  // To anyone else a suspended store's product does not exist.
  const other = await openStore(a.request);
  await a.request.patch(`/api/products/${productId}`).set('Cookie', other.cookie).send({ stock: 1 }).expect(404);
  const standing = await findVendorStanding(a.database.db, vendor.vendorId);
  expect(standing).toMatchObject({ productCount: 1, storeName: expect.stringMatching(/^Suspect /) });

  await suspend(a, vendor.vendorId, false);
  await a.request.post('/api/orders').set('Cookie', buyer.cookie).send(order).expect(201);
  await a.request.patch('/api/vendors/me').set('Cookie', vendor.cookie).send({ description: 'Back' }).expect(200);
  await listProduct(a.request, vendor);
});

it('products listed while the store is being suspended are suspended with it or refused: none is left showing', async () => {
  const { vendor } = await storeWithProduct();
  const creations = Array.from({ length: 8 }, (_, i) =>
    a.request
      .post('/api/products')
      .set('Cookie', vendor.cookie)
      .send({ title: `Racer ${i}`, priceCents: 100 }),
  );
  const [, ...answers] = await Promise.all([suspend(a, vendor.vendorId, true), ...creations]);
  for (const answer of answers) expect([201, 403]).toContain(answer.status);
  const { rows } = await a.database.pool.query(
    'SELECT count(*)::int AS n FROM products WHERE vendor_id = $1 AND vendor_suspended_at IS NULL',
    [vendor.vendorId],
  );
  expect(rows[0].n).toBe(0);
  expect(await listedIds(a, `/api/products?vendorId=${vendor.vendorId}`)).toEqual([]);
});

it('a suspension inside a unit of work that rolls back changes nothing; an unknown store is undefined', async () => {
  const { vendor, paths } = await storeWithProduct();
  await warm(a, paths.detail);
  await expect(
    a.database.transaction(async (unit) => {
      await catalogueOf(a).setVendorSuspended(unit, vendor.vendorId, true, new Date());
      throw new Error('audit log write failed');
    }),
  ).rejects.toThrow('audit log write failed');
  expect((await a.request.get(paths.detail).expect(200)).headers['x-cache']).toBe('HIT');
  expect((await findVendorStanding(a.database.db, vendor.vendorId))?.suspendedAt).toBeNull();

  expect(await suspend(a, '00000000-0000-4000-8000-000000000000', true)).toBeUndefined();
  expect(await findVendorStanding(a.database.db, '00000000-0000-4000-8000-000000000000')).toBeUndefined();
});

it('the other instance drops its cached answers too', async () => {
  const { vendor, productId, paths } = await storeWithProduct();
  for (const path of [paths.detail, paths.vendorList, paths.page]) await warm(b, path);

  await suspend(a, vendor.vendorId, true);
  await waitFor('the suspended product to leave the other instance', async () => {
    const res = await b.request.get(paths.detail);
    return res.status === 404;
  });
  await b.request.get(paths.page).expect(404);
  expect(await listedIds(b, paths.vendorList)).toEqual([]);

  await suspend(a, vendor.vendorId, false);
  await waitFor('the reinstated product to return on the other instance', async () =>
    (await listedIds(b, paths.vendorList)).includes(productId),
  );
  await b.request.get(paths.detail).expect(200);
});
