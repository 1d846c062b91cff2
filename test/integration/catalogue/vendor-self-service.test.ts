import { startTestApp, type TestApp } from '../../support/app';
import { openStore, type Vendor } from '../../support/catalogue';
import { waitForLog } from '../../support/logger';
import { pngBytes, upload } from '../../support/objects';
import { registerUser } from '../../support/users';

/*
 * A vendor finds and edits its own store: GET/PATCH /api/vendors/me. There is no id in the path,
 * so a vendor can only ever change its own store.
 */
let t: TestApp;
let vendor: Vendor;
beforeAll(async () => {
  t = await startTestApp({ env: { PUBLIC_BASE_URL: 'https://cdn.example.com/', OBJECT_ORPHAN_GRACE_HOURS: '24' } });
  vendor = await openStore(t.request, 'Own Store');
});
afterAll(() => t.close());

const publicImage = async (owner: Vendor) =>
  (await upload(t, owner, pngBytes(600), { visibility: 'public' }).expect(201)).body.key as string;

it('GET /api/vendors/me answers the signed-in vendor its own store; a buyer is 403 not_a_vendor, anonymous 401', async () => {
  const res = await t.request.get('/api/vendors/me').set('Cookie', vendor.cookie).expect(200);
  expect(res.body.vendor).toMatchObject({
    id: vendor.vendorId,
    userId: vendor.id,
    storeName: 'Own Store',
    productCount: 0,
    logoKey: null,
    logoUrl: null,
    suspendedAt: null,
  });
  expect(res.headers['cache-control']).toBe('private, no-store');
  // `me` is never read as a store id.
  expect((await t.request.get('/api/vendors/ME').set('Cookie', vendor.cookie).expect(200)).body.vendor.id).toBe(vendor.vendorId);
  const wrongMethod = await t.request.delete('/api/vendors/me').set('Cookie', vendor.cookie).expect(405);
  expect(wrongMethod.headers.allow).toBe('GET, HEAD, PATCH');

  const buyer = await registerUser(t.request);
  expect((await t.request.get('/api/vendors/me').set('Cookie', buyer.cookie).expect(403)).body.error.code).toBe('not_a_vendor');
  await t.request.get('/api/vendors/me').expect(401);
});

it('PATCH /api/vendors/me changes name and description, moves updatedAt, and the cached store page shows it at once', async () => {
  const before = (await t.request.get('/api/vendors/me').set('Cookie', vendor.cookie).expect(200)).body.vendor;
  const page = `/api/vendors/${vendor.vendorId}`;
  await t.request.get(page).expect(200);
  expect((await t.request.get(page).expect(200)).headers['x-cache']).toBe('HIT');

  const res = await t.request
    .patch('/api/vendors/me')
    .set('Cookie', vendor.cookie)
    .send({ storeName: '  Renamed Store ', description: 'Hats\nand gloves' })
    .expect(200);
  expect(res.body.vendor).toMatchObject({ id: vendor.vendorId, storeName: 'Renamed Store', description: 'Hats\nand gloves' });
  expect(Date.parse(res.body.vendor.updatedAt)).toBeGreaterThan(Date.parse(before.updatedAt));
  expect(res.body.vendor.createdAt).toBe(before.createdAt);

  const fresh = await t.request.get(page).expect(200);
  expect(fresh.headers['x-cache']).toBe('MISS');
  expect(fresh.body.vendor).toMatchObject({ storeName: 'Renamed Store', description: 'Hats\nand gloves' });
});

it('a logo is an uploaded public image: its absolute URL on PUBLIC_BASE_URL is shown, null removes it, an unknown key is 400', async () => {
  const key = await publicImage(vendor);
  const set = await t.request.patch('/api/vendors/me').set('Cookie', vendor.cookie).send({ logoKey: key }).expect(200);
  expect(set.body.vendor).toMatchObject({ logoKey: key, logoUrl: `https://cdn.example.com/objects/${key}` });
  expect((await t.request.get(`/api/vendors/${vendor.vendorId}`).expect(200)).body.vendor.logoUrl).toBe(
    `https://cdn.example.com/objects/${key}`,
  );

  const unknown = await t.request.patch('/api/vendors/me').set('Cookie', vendor.cookie).send({ logoKey: 'public/missing.png' }).expect(400);
  expect(unknown.body.error.code).toBe('unknown_image');
  const privateKey = (await upload(t, vendor, pngBytes(300)).expect(201)).body.key as string;
  await t.request.patch('/api/vendors/me').set('Cookie', vendor.cookie).send({ logoKey: privateKey }).expect(400);
  expect((await t.request.get('/api/vendors/me').set('Cookie', vendor.cookie).expect(200)).body.vendor.logoKey).toBe(key);

  const removed = await t.request.patch('/api/vendors/me').set('Cookie', vendor.cookie).send({ logoKey: null }).expect(200);
  expect(removed.body.vendor).toMatchObject({ logoKey: null, logoUrl: null });
  expect((await t.request.get(`/api/vendors/${vendor.vendorId}`).expect(200)).body.vendor.logoUrl).toBeNull();
});

it('refuses an empty body, unknown fields (the owner, the id) and invalid values with 400', async () => {
  for (const body of [
    {},
    { userId: vendor.id },
    { id: vendor.vendorId, storeName: 'X' },
    { storeName: '' },
    { storeName: 'www.spam.example' },
  ]) {
    const res = await t.request.patch('/api/vendors/me').set('Cookie', vendor.cookie).send(body).expect(400);
    expect(res.body.error.code).toBe('validation_failed');
  }
  await t.request.patch('/api/vendors/me').set('Cookie', vendor.cookie).send({ logoKey: '../etc/passwd' }).expect(400);
});

it("a vendor changes only its own store: another vendor's PATCH leaves the first store as it was; a buyer is 403, anonymous 401", async () => {
  const first = await openStore(t.request, 'First Store');
  const other = await openStore(t.request, 'Other Store');
  const res = await t.request.patch('/api/vendors/me').set('Cookie', other.cookie).send({ storeName: 'Taken Over' }).expect(200);
  expect(res.body.vendor.id).toBe(other.vendorId);
  expect((await t.request.get(`/api/vendors/${first.vendorId}`).expect(200)).body.vendor.storeName).toBe('First Store');
  expect((await t.request.get(`/api/vendors/${other.vendorId}`).expect(200)).body.vendor.storeName).toBe('Taken Over');

  const buyer = await registerUser(t.request);
  const refused = await t.request.patch('/api/vendors/me').set('Cookie', buyer.cookie).send({ storeName: 'Mine now' }).expect(403);
  expect(refused.body.error.code).toBe('not_a_vendor');
  await t.request.patch('/api/vendors/me').send({ storeName: 'Anyone' }).expect(401);
  expect((await t.request.get(`/api/vendors/${first.vendorId}`).expect(200)).body.vendor.storeName).toBe('First Store');
});

it('the orphan sweep keeps an upload a store shows as its logo', async () => {
  const owner = await openStore(t.request);
  const [logo, orphan] = [await publicImage(owner), await publicImage(owner)];
  await t.request.patch('/api/vendors/me').set('Cookie', owner.cookie).send({ logoKey: logo }).expect(200);
  await t.database.pool.query(`UPDATE objects SET created_at = now() - interval '25 hours' WHERE key = ANY($1)`, [[logo, orphan]]);

  await t.app.jobs.sendNow('objects-sweep-orphans');
  await waitForLog(t.logs, /orphan sweep deleted 1 unreferenced/);
  await t.request.get(`/objects/${orphan}`).expect(404);
  await t.request.get(`/objects/${logo}`).expect(200);
});
