import { startTestApp, type TestApp } from '../../support/app';
import { openStore } from '../../support/catalogue';
import { binary, pngBytes, upload } from '../../support/objects';

let t: TestApp;
beforeAll(async () => {
  // Behind a CDN: image links point at it, not at the API's own origin (trailing slash ignored).
  t = await startTestApp({ env: { PUBLIC_BASE_URL: 'https://cdn.example.com/' } });
});
afterAll(() => t.close());

it('a product attaches an uploaded public image by key and serves its absolute URL (on PUBLIC_BASE_URL); an unknown key is a 400', async () => {
  const vendor = await openStore(t.request);
  const image = pngBytes(2_048);
  const uploaded = await upload(t, vendor, image, { visibility: 'public' }).expect(201);
  const { key, url } = uploaded.body as { key: string; url: string };

  const created = await t.request
    .post('/api/products')
    .set('Cookie', vendor.cookie)
    .send({ title: 'Framed print', priceCents: 2_500, imageKeys: [key] })
    .expect(201);
  expect(created.body.product.imageKeys).toEqual([key]);
  // Absolute, on PUBLIC_BASE_URL: a storefront on another origin (or a CDN) can use it as it is.
  expect(created.body.product.imageUrls).toEqual([`https://cdn.example.com${url}`]);
  const listed = await t.request.get(`/api/products/${created.body.product.id}`).expect(200);
  expect(listed.body.product.imageUrls).toEqual([`https://cdn.example.com${url}`]);
  const bytes = await t.request.get(url).buffer(true).parse(binary).expect(200);
  expect(Buffer.compare(bytes.body as Buffer, image)).toBe(0);

  const missing = await t.request
    .post('/api/products')
    .set('Cookie', vendor.cookie)
    .send({ title: 'Ghost print', priceCents: 2_500, imageKeys: ['public/00000000-0000-4000-8000-000000000000.png'] })
    .expect(400);
  expect(missing.body.error).toMatchObject({
    code: 'unknown_image',
    details: { missing: ['public/00000000-0000-4000-8000-000000000000.png'] },
  });
  const privateKey = (await upload(t, vendor, image, { visibility: 'private' }).expect(201)).body.key as string;
  await t.request
    .post('/api/products')
    .set('Cookie', vendor.cookie)
    .send({ title: 'Private print', priceCents: 1, imageKeys: [privateKey] })
    .expect(400);
});
