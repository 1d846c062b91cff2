import { randomBytes } from 'node:crypto';
import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { placeCardOrder } from '../../support/orders';
import { registerUser } from '../../support/users';

/*
 * Browsing: the store list (by name, searchable, keyset pages) and the categories with their
 * counts, both cached like the product list and dropped by the writes that change them.
 * Every test searches a token of its own, so stores opened by other tests never get in its way.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const token = () => `t${randomBytes(4).toString('hex')}`;
type StorePage = {
  items: Array<{ id: string; storeName: string; productCount: number; logoUrl: string | null }>;
  nextCursor: string | null;
};
type Categories = { categories: Array<{ name: string; productCount: number }> };
const countIn = (body: Categories, name: string) => body.categories.find((c) => c.name === name)?.productCount;

describe('GET /api/vendors', () => {
  it('lists stores by name, case-insensitively, in keyset pages that neither repeat nor skip', async () => {
    const tag = token();
    const names = [`banana ${tag}`, `Apple ${tag}`, `cherry ${tag}`, `apple ${tag} two`, `Date ${tag}`];
    for (const name of names) await openStore(t.request, name);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string = `/api/vendors?q=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await t.request.get(path).expect(200)).body as StorePage;
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((v) => v.storeName));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([`Apple ${tag}`, `apple ${tag} two`, `banana ${tag}`, `cherry ${tag}`, `Date ${tag}`]);
  });

  it('matches any part of the name, ignoring case, with % and _ taken literally; each store carries its product count and logo URL', async () => {
    const tag = token();
    const percent = await openStore(t.request, `100% Wool ${tag}`);
    await openStore(t.request, `100X Wool ${tag}`);
    await openStore(t.request, `under_score ${tag}`);
    await openStore(t.request, `underXscore ${tag}`);
    await listProduct(t.request, percent);
    await listProduct(t.request, percent);

    const names = async (q: string) =>
      ((await t.request.get(`/api/vendors?q=${encodeURIComponent(q)}`).expect(200)).body as StorePage).items.map((v) => v.storeName);
    expect(await names(`0% WOOL ${tag.toUpperCase()}`)).toEqual([`100% Wool ${tag}`]);
    expect(await names(`r_s`)).toContain(`under_score ${tag}`);
    expect(await names(`r_s`)).not.toContain(`underXscore ${tag}`);
    expect(await names(`wool ${tag}`)).toEqual([`100% Wool ${tag}`, `100X Wool ${tag}`]);
    expect(await names(`nothing-like-${tag}`)).toEqual([]);

    const [store] = ((await t.request.get(`/api/vendors?q=${encodeURIComponent(`100% wool ${tag}`)}`).expect(200)).body as StorePage).items;
    expect(store).toMatchObject({ id: percent.vendorId, productCount: 2, logoUrl: null });
  });

  it('refuses a forged cursor and a limit over 100 with 400', async () => {
    expect((await t.request.get('/api/vendors?cursor=forged').expect(400)).body.error.code).toBe('invalid_cursor');
    const nul = Buffer.from(JSON.stringify({ n: 'a\u0000b', i: '00000000-0000-4000-8000-000000000000' })).toString('base64url');
    expect((await t.request.get(`/api/vendors?cursor=${nul}`).expect(400)).body.error.code).toBe('invalid_cursor');
    await t.request.get('/api/vendors?limit=101').expect(400);
  });

  it('is cached (MISS, HIT, 304 on its ETag, public for anonymous readers), and a store opened, renamed or given a product shows at once', async () => {
    const tag = token();
    const first = await openStore(t.request, `first ${tag}`);
    const list = `/api/vendors?q=${tag}`;
    expect((await t.request.get(list).expect(200)).headers['x-cache']).toBe('MISS');
    const hit = await t.request.get(list).expect(200);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers['cache-control']).toMatch(/^public, max-age=\d+/);
    await t.request
      .get(list)
      .set('If-None-Match', hit.headers.etag as string)
      .expect(304);
    // Equivalent spellings share the entry.
    expect((await t.request.get(`/api/vendors?q=${tag.toUpperCase()}%20&limit=20`).expect(200)).headers['x-cache']).toBe('HIT');

    const second = await openStore(t.request, `second ${tag}`);
    const opened = await t.request.get(list).expect(200);
    expect(opened.headers['x-cache']).toBe('MISS');
    expect((opened.body as StorePage).items.map((v) => v.id)).toEqual([first.vendorId, second.vendorId]);
    await t.request.get(list).expect(200);

    await t.request
      .patch('/api/vendors/me')
      .set('Cookie', second.cookie)
      .send({ storeName: `again ${tag}` })
      .expect(200);
    const renamed = await t.request.get(list).expect(200);
    expect(renamed.headers['x-cache']).toBe('MISS');
    expect((renamed.body as StorePage).items.map((v) => v.storeName)).toEqual([`again ${tag}`, `first ${tag}`]);
    await t.request.get(list).expect(200);

    const product = await listProduct(t.request, first);
    const counted = await t.request.get(list).expect(200);
    expect(counted.headers['x-cache']).toBe('MISS');
    expect((counted.body as StorePage).items.find((v) => v.id === first.vendorId)?.productCount).toBe(1);
    await t.request.delete(`/api/products/${product.id}`).set('Cookie', first.cookie).expect(204);
    expect(((await t.request.get(list).expect(200)).body as StorePage).items.find((v) => v.id === first.vendorId)?.productCount).toBe(0);
  });
});

describe('GET /api/categories', () => {
  let vendor: Vendor;
  beforeAll(async () => {
    vendor = await openStore(t.request);
  });

  it('lists every category of live products with its count, by name; products without one are not a category', async () => {
    const tag = token();
    await listProduct(t.request, vendor, { category: `B-${tag}` });
    await listProduct(t.request, vendor, { category: `B-${tag}` });
    await listProduct(t.request, vendor, { category: `a-${tag}` });
    const removed = await listProduct(t.request, vendor, { category: `c-${tag}` });
    await t.request.delete(`/api/products/${removed.id}`).set('Cookie', vendor.cookie).expect(204);
    await listProduct(t.request, vendor, { category: null });

    const body = (await t.request.get('/api/categories').expect(200)).body as Categories;
    // By name ignoring case: `a-` before `B-`.
    expect(body.categories.filter((c) => c.name.endsWith(tag))).toEqual([
      { name: `a-${tag}`, productCount: 1 },
      { name: `B-${tag}`, productCount: 2 },
    ]);
  });

  it('is cached, and a product created, moved or removed changes the counts at once; a stock change keeps the entry', async () => {
    const tag = token();
    const product = await listProduct(t.request, vendor, { category: `lamps-${tag}` });
    await t.request.get('/api/categories').expect(200);
    const hit = await t.request.get('/api/categories').expect(200);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers['cache-control']).toMatch(/^public/);
    await t.request
      .get('/api/categories')
      .set('If-None-Match', hit.headers.etag as string)
      .expect(304);
    expect((await t.request.get('/api/categories').set('Cookie', vendor.cookie).expect(200)).headers['cache-control']).toBe(
      'private, no-store',
    );

    await listProduct(t.request, vendor, { category: `lamps-${tag}` });
    const created = await t.request.get('/api/categories').expect(200);
    expect(created.headers['x-cache']).toBe('MISS');
    expect(countIn(created.body, `lamps-${tag}`)).toBe(2);

    await t.request
      .patch(`/api/products/${product.id}`)
      .set('Cookie', vendor.cookie)
      .send({ category: `rugs-${tag}` })
      .expect(200);
    const moved = (await t.request.get('/api/categories').expect(200)).body as Categories;
    expect([countIn(moved, `lamps-${tag}`), countIn(moved, `rugs-${tag}`)]).toEqual([1, 1]);

    await t.request.delete(`/api/products/${product.id}`).set('Cookie', vendor.cookie).expect(204);
    const removed = await t.request.get('/api/categories').expect(200);
    expect(removed.headers['x-cache']).toBe('MISS');
    expect(countIn(removed.body, `rugs-${tag}`)).toBeUndefined();

    // An order takes stock, which no count depends on: the entry stays.
    const stocked = await listProduct(t.request, vendor, { category: `lamps-${tag}`, stock: 3 });
    await t.request.get('/api/categories').expect(200);
    await placeCardOrder(t.request, await registerUser(t.request), [{ productId: stocked.id, quantity: 1 }]);
    expect((await t.request.get('/api/categories').expect(200)).headers['x-cache']).toBe('HIT');
  });
});
