import type supertest from 'supertest';
import { startTestApp, type TestApp } from '../../support/app';
import { type FakeGcs, startFakeGcs } from '../../support/fake-gcs';
import { pngBytes, registerVendor, upload } from '../../support/objects';
import type { SignedInUser } from '../../support/users';

/*
 * GCS failing in each way an outage looks, through the driver as production builds it from the
 * config (the SDK's own retries and GCS_TIMEOUT_MS included, no injected client).
 */

const GCS_TIMEOUT_MS = 1_000;
/** Slack for a loaded machine on top of the configured deadline. */
const SLACK_MS = 2_000;

let gcs: FakeGcs;
let t: TestApp;
let vendor: SignedInUser;
let publicUrl: string;
let privateUrl: string;

beforeAll(async () => {
  gcs = await startFakeGcs();
  t = await startTestApp({
    env: {
      OBJECT_STORAGE_DRIVER: 'gcs',
      GCS_API_ENDPOINT: gcs.url,
      GCS_PROJECT_ID: 'test-project',
      GCS_TIMEOUT_MS: String(GCS_TIMEOUT_MS),
      PUBLIC_OBJECT_SEARCH_PATHS: '/bucket-one/media',
      PRIVATE_OBJECT_DIR: '/bucket-private/users',
    },
  });
  vendor = await registerVendor(t);
  publicUrl = (await upload(t, vendor, pngBytes(2_000), { visibility: 'public' }).expect(201)).body.url;
  privateUrl = (await upload(t, vendor, pngBytes(2_000)).expect(201)).body.url;
});
afterEach(async () => {
  gcs.outage = false;
  await gcs.setFault(undefined);
});
afterAll(async () => {
  await t.close();
  await gcs.close();
});

const calls: Array<[string, () => supertest.Test]> = [
  ['a public download', () => t.request.get(publicUrl)],
  ['a public HEAD', () => t.request.head(publicUrl)],
  ['a private download', () => t.request.get(privateUrl).set('Cookie', vendor.cookie)],
  ['a private HEAD', () => t.request.head(privateUrl).set('Cookie', vendor.cookie)],
  ['an upload', () => upload(t, vendor, pngBytes(2_000), { visibility: 'public' })],
];

async function expectStorageUnavailableInTime(call: () => supertest.Test) {
  const started = Date.now();
  const res = await call();
  const elapsed = Date.now() - started;
  expect(res.status).toBe(503);
  // HEAD answers carry no body; the code is checked on the GETs and the upload.
  if (res.request.method !== 'HEAD') expect(res.body.error.code).toBe('storage_unavailable');
  expect(res.headers['retry-after']).toBe('5');
  expect(elapsed).toBeLessThan(GCS_TIMEOUT_MS + SLACK_MS);
  return elapsed;
}

describe.each([
  ['refuses connections (down)', () => gcs.setFault('down')],
  [
    'answers 503',
    async () => {
      gcs.outage = true;
    },
  ],
  ['accepts requests and never answers', () => gcs.setFault('hang')],
])('when GCS %s', (_what, breakGcs) => {
  it.each(calls)('then %s answers 503 storage_unavailable with Retry-After within GCS_TIMEOUT_MS', async (_call, call) => {
    await breakGcs();
    await expectStorageUnavailableInTime(call);
  });
});

describe('when GCS is down and a vendor attaches an uploaded image to a product', () => {
  it.each([
    ['refuses connections', () => gcs.setFault('down')],
    ['never answers', () => gcs.setFault('hang')],
  ])(
    'and GCS %s, then listing and changing the product answer 503 storage_unavailable in time, and work after',
    async (_what, breakGcs) => {
      const key = publicUrl.replace(/^\/objects\//, '');
      const product = await t.request
        .post('/api/products')
        .set('Cookie', vendor.cookie)
        .send({ title: 'Print', priceCents: 900, imageKeys: [key] })
        .expect(201);
      await breakGcs();
      await expectStorageUnavailableInTime(() =>
        t.request
          .post('/api/products')
          .set('Cookie', vendor.cookie)
          .send({ title: 'Print', priceCents: 900, imageKeys: [key] }),
      );
      await expectStorageUnavailableInTime(() =>
        t.request
          .patch(`/api/products/${product.body.product.id}`)
          .set('Cookie', vendor.cookie)
          .send({ imageKeys: [key] }),
      );
      await gcs.setFault(undefined);
      await t.request
        .post('/api/products')
        .set('Cookie', vendor.cookie)
        .send({ title: 'Print', priceCents: 900, imageKeys: [key] })
        .expect(201);
    },
  );
});

describe('when GCS serves metadata but the bytes never come', () => {
  it('then a download answers 503 within GCS_TIMEOUT_MS (nothing of the object sent), and HEAD still answers 200', async () => {
    await gcs.setFault('hang-media');
    const elapsed = await expectStorageUnavailableInTime(() => t.request.get(publicUrl));
    expect(elapsed).toBeGreaterThanOrEqual(GCS_TIMEOUT_MS - 50);
    await t.request.head(publicUrl).expect(200);
  });

  it('then after recovery the same download answers 200 with the bytes', async () => {
    await gcs.setFault('hang-media');
    await gcs.setFault(undefined);
    const res = await t.request.get(publicUrl).expect(200);
    expect(Number(res.headers['content-length'])).toBe(2_000);
  });
});
