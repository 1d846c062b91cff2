import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { sessionIdOf } from '../../support/session-cookie';
import { registerUser, verifyEmail } from '../../support/users';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('vendors', () => {
  it('an admin who opens a store stays an admin, in the database and in the new session', async () => {
    const user = await registerUser(t.request);
    await verifyEmail(t.request, user);
    await t.database.pool.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [user.id]);
    const signedIn = await t.request.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(200);
    const cookie = signedIn.headers['set-cookie']!.toString().split(';')[0]!;
    const res = await t.request.post('/api/vendors').set('Cookie', cookie).send({ storeName: 'Admin Shop', description: '' }).expect(201);
    const after = res.headers['set-cookie']!.toString().split(';')[0]!;
    const me = await t.request.get('/api/auth/me').set('Cookie', after).expect(200);
    expect(me.body.user.role).toBe('admin');
    const { rows } = await t.database.pool.query('SELECT role FROM users WHERE id = $1', [user.id]);
    expect(rows).toEqual([{ role: 'admin' }]);
    // The store is theirs all the same.
    await t.request.post('/api/products').set('Cookie', after).send({ title: 'Admin product', priceCents: 100, stock: 1 }).expect(201);
  });

  it('opening a store makes the user a vendor, regenerates the session, and the vendor page counts products', async () => {
    const user = await registerUser(t.request);
    await verifyEmail(t.request, user);
    const res = await t.request
      .post('/api/vendors')
      .set('Cookie', user.cookie)
      .send({ storeName: 'Ada’s Atelier', description: 'Hats' })
      .expect(201);
    expect(res.body.vendor).toMatchObject({ storeName: 'Ada’s Atelier', userId: user.id, productCount: 0 });
    const newCookie = res.headers['set-cookie']?.toString() ?? '';
    expect(newCookie).toMatch(/^sid=/);
    const vendor: Vendor = { ...user, cookie: newCookie.split(';')[0]!, vendorId: res.body.vendor.id };
    expect(sessionIdOf(vendor.cookie)).not.toBe(sessionIdOf(user.cookie));
    // The pre-upgrade cookie no longer works.
    await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(401);
    const me = await t.request.get('/api/auth/me').set('Cookie', vendor.cookie).expect(200);
    expect(me.body.user.role).toBe('vendor');

    await listProduct(t.request, vendor);
    await listProduct(t.request, vendor);
    const page = await t.request.get(`/api/vendors/${vendor.vendorId}`).expect(200);
    expect(page.body.vendor.productCount).toBe(2);
  });

  it('a second store for the same user is a 409; signed out is a 401; an unknown vendor a 404; a bad id a 400', async () => {
    const vendor = await openStore(t.request);
    const again = await t.request.post('/api/vendors').set('Cookie', vendor.cookie).send({ storeName: 'Again' }).expect(409);
    expect(again.body.error.code).toBe('already_vendor');
    await t.request.post('/api/vendors').send({ storeName: 'Anon' }).expect(401);
    await t.request.get('/api/vendors/00000000-0000-4000-8000-000000000000').expect(404);
    const bad = await t.request.get('/api/vendors/not-a-uuid').expect(400);
    expect(bad.body.error.code).toBe('validation_failed');
  });
});

describe('product ownership', () => {
  it('only the owning vendor may edit or delete; buyers cannot list products', async () => {
    const owner = await openStore(t.request);
    const other = await openStore(t.request);
    const buyer = await registerUser(t.request);
    const product = await listProduct(t.request, owner);

    const byOther = await t.request
      .patch(`/api/products/${product.id}`)
      .set('Cookie', other.cookie)
      .send({ title: 'Mine now' })
      .expect(403);
    expect(byOther.body.error.code).toBe('not_owner');
    await t.request.delete(`/api/products/${product.id}`).set('Cookie', other.cookie).expect(403);
    await t.request.patch(`/api/products/${product.id}`).send({ title: 'Anon' }).expect(401);
    const byBuyer = await t.request.post('/api/products').set('Cookie', buyer.cookie).send({ title: 'X', priceCents: 1 }).expect(403);
    expect(byBuyer.body.error.code).toBe('not_a_vendor');

    const unchanged = await t.request.get(`/api/products/${product.id}`).expect(200);
    expect(unchanged.body.product.title).toBe(product.title);
    await t.request.patch(`/api/products/${product.id}`).set('Cookie', owner.cookie).send({ title: 'Renamed' }).expect(200);
    await t.request
      .patch('/api/products/00000000-0000-4000-8000-000000000000')
      .set('Cookie', owner.cookie)
      .send({ title: 'Ghost' })
      .expect(404);
  });
});

describe('product validation', () => {
  let vendor: Vendor;
  beforeAll(async () => {
    vendor = await openStore(t.request);
  });

  it.each([
    ['a negative price', { title: 'A', priceCents: -1 }, 'priceCents'],
    ['fractional cents', { title: 'A', priceCents: 10.5 }, 'priceCents'],
    ['a price given as a string', { title: 'A', priceCents: '100' }, 'priceCents'],
    ['an empty title', { title: '   ', priceCents: 100 }, 'title'],
    ['a negative stock', { title: 'A', priceCents: 100, stock: -3 }, 'stock'],
    ['a bad currency', { title: 'A', priceCents: 100, currency: 'dollars' }, 'currency'],
    ['an image key that is a path escape', { title: 'A', priceCents: 100, imageKeys: ['../etc/passwd'] }, 'imageKeys.0'],
    ['a price beyond int4', { title: 'A', priceCents: 2 ** 31 }, 'priceCents'],
  ])('%s is a 400 naming the field', async (_name, body, field) => {
    const res = await t.request.post('/api/products').set('Cookie', vendor.cookie).send(body).expect(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.issues.map((i: { path: unknown[] }) => i.path.join('.'))).toContain(field);
  });

  it('unknown fields and an empty PATCH are refused; nothing is written', async () => {
    const before = await t.database.pool.query('SELECT count(*)::int AS n FROM products');
    const res = await t.request
      .post('/api/products')
      .set('Cookie', vendor.cookie)
      .send({ title: 'A', priceCents: 1, vendorId: vendor.vendorId })
      .expect(400);
    expect(res.body.error.details.issues[0].code).toBe('unrecognized_keys');
    const after = await t.request.get('/api/products?limit=1');
    expect(after.status).toBe(200);
    expect((await t.database.pool.query('SELECT count(*)::int AS n FROM products')).rows[0].n).toBe(before.rows[0].n);
    const product = await listProduct(t.request, vendor);
    await t.request.patch(`/api/products/${product.id}`).set('Cookie', vendor.cookie).send({}).expect(400);
  });

  it.each([
    ['sort=cheapest'],
    ['limit=101'],
    ['limit=0'],
    ['limit=ten'],
    ['minPrice=-5'],
    ['maxPrice=1.5'],
    ['minPrice=500&maxPrice=100'],
    ['vendorId=nope'],
    ['cursor=garbage'],
    ['q=a&q=b'],
  ])('list query %s is a 400', async (query) => {
    const res = await t.request.get(`/api/products?${query}`).expect(400);
    expect(['validation_failed', 'invalid_cursor']).toContain(res.body.error.code);
  });
});

describe('search and filters', () => {
  it('finds a product by a word of its description; hostile text is just text', async () => {
    const vendor = await openStore(t.request);
    const hat = await listProduct(t.request, vendor, { title: 'Felt hat', description: 'Handmade from merino wool in the Alps' });
    await listProduct(t.request, vendor, { title: 'Cotton scarf', description: 'Light summer scarf' });
    const found = await t.request.get('/api/products?q=merino').expect(200);
    expect(found.body.items.map((p: { id: string }) => p.id)).toEqual([hat.id]);
    for (const q of [`'; DROP TABLE products; --`, '<script>alert(1)</script>', '"unterminated', '!!! & | :*', 'a'.repeat(200)]) {
      const res = await t.request.get('/api/products').query({ q }).expect(200);
      expect(Array.isArray(res.body.items)).toBe(true);
    }
    expect((await t.database.pool.query('SELECT count(*)::int AS n FROM products')).rows[0].n).toBeGreaterThan(0);
  });

  it('filters by category, vendor and price range and sorts by price both ways', async () => {
    const vendor = await openStore(t.request);
    const prices = [500, 100, 300, 200, 400];
    for (const priceCents of prices) await listProduct(t.request, vendor, { priceCents, category: 'lamps' });
    await listProduct(t.request, vendor, { priceCents: 250, category: 'rugs' });
    const asc = await t.request.get(`/api/products?vendorId=${vendor.vendorId}&category=lamps&sort=price_asc`).expect(200);
    expect(asc.body.items.map((p: { priceCents: number }) => p.priceCents)).toEqual([100, 200, 300, 400, 500]);
    const desc = await t.request
      .get(`/api/products?vendorId=${vendor.vendorId}&category=lamps&sort=price_desc&minPrice=200&maxPrice=400`)
      .expect(200);
    expect(desc.body.items.map((p: { priceCents: number }) => p.priceCents)).toEqual([400, 300, 200]);
  });
});

describe('cursor pagination', () => {
  it.each(['newest', 'price_asc', 'price_desc'])(
    'walks 25 products in 3 pages of 10 (sort=%s) without duplicates or gaps, even with inserts between pages',
    async (sort) => {
      const vendor = await openStore(t.request);
      const listed: string[] = [];
      for (let i = 0; i < 25; i++) listed.push((await listProduct(t.request, vendor, { priceCents: 1_000 + (i % 7) * 10 })).id);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await t.request
          .get('/api/products')
          .query({ vendorId: vendor.vendorId, sort, limit: 10, ...(cursor ? { cursor } : {}) })
          .expect(200);
        seen.push(...res.body.items.map((p) => p.id));
        cursor = res.body.nextCursor;
        pages++;
        // Someone lists more products while the client pages: the walk must not shift.
        if (pages === 1) for (let i = 0; i < 3; i++) await listProduct(t.request, vendor, { priceCents: 5 });
      } while (cursor);
      expect(pages).toBe(3);
      expect(new Set(seen).size).toBe(seen.length);
      const original = seen.filter((id) => listed.includes(id));
      expect(new Set(original)).toEqual(new Set(listed));
    },
  );
});

describe('soft delete', () => {
  it('a deleted product is a 404 and gone from lists, but its row is kept', async () => {
    const vendor = await openStore(t.request);
    const product = await listProduct(t.request, vendor);
    await t.request.get(`/api/products?vendorId=${vendor.vendorId}`).expect(200);
    await t.request.delete(`/api/products/${product.id}`).set('Cookie', vendor.cookie).expect(204);
    await t.request.get(`/api/products/${product.id}`).expect(404);
    const list = await t.request.get(`/api/products?vendorId=${vendor.vendorId}`).expect(200);
    expect(list.body.items).toEqual([]);
    await t.request.delete(`/api/products/${product.id}`).set('Cookie', vendor.cookie).expect(404);
    const { rows } = await t.database.pool.query('SELECT deleted_at FROM products WHERE id = $1', [product.id]);
    expect(rows[0].deleted_at).not.toBeNull();
  });
});
