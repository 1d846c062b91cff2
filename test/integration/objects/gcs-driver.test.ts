import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { Storage } from '@google-cloud/storage';
import { waitForLog } from '../../support/logger';
import { startTestApp, type TestApp } from '../../support/app';
import { type FakeGcs, startFakeGcs } from '../../support/fake-gcs';
import { abortUploadMidway, binary, pngBytes, registerVendor, upload } from '../../support/objects';
import { registerUser } from '../../support/users';

/* The gcs driver through the real SDK against a local server speaking the GCS JSON API. */

let gcs: FakeGcs;
let t: TestApp;
let base: string;
const LIMIT = 40_000;

beforeAll(async () => {
  gcs = await startFakeGcs();
  t = await startTestApp({
    // An injected client (AppDeps.objectStorage) without the SDK's retry backoff, so outages show at once.
    deps: { objectStorage: new Storage({ apiEndpoint: gcs.url, projectId: 'test-project', retryOptions: { autoRetry: false } }) },
    env: {
      OBJECT_STORAGE_DRIVER: 'gcs',
      GCS_API_ENDPOINT: gcs.url,
      GCS_PROJECT_ID: 'test-project',
      PUBLIC_OBJECT_SEARCH_PATHS: '/bucket-one/media,/bucket-two/legacy',
      PRIVATE_OBJECT_DIR: '/bucket-private/users',
      UPLOAD_MAX_BYTES: String(LIMIT),
    },
  });
  base = await t.listen();
});
afterAll(async () => {
  await t.close();
  await gcs.close();
});

describe('gcs driver', () => {
  it('when a vendor uploads, then the object lands in the first search path with its type and owner', async () => {
    const vendor = await registerVendor(t);
    const bytes = pngBytes(5_000);
    const res = await upload(t, vendor, bytes, { visibility: 'public' }).expect(201);
    const stored = gcs.objects.get(`bucket-one/media/${res.body.key.slice('public/'.length)}`);
    expect(stored?.data.equals(bytes)).toBe(true);
    expect(stored?.resource).toMatchObject({ contentType: 'image/png', metadata: { owner: vendor.id } });
    const download = await t.request.get(res.body.url).buffer(true).parse(binary).expect(200);
    expect((download.body as Buffer).equals(bytes)).toBe(true);
  });

  it('when a public object exists in several search paths, then the first one wins; later paths are searched too', async () => {
    const first = randomBytes(100);
    gcs.put('bucket-one', 'media/both.bin', first);
    gcs.put('bucket-two', 'legacy/both.bin', randomBytes(100));
    const onlySecond = randomBytes(100);
    gcs.put('bucket-two', 'legacy/old/only.bin', onlySecond);
    const both = await t.request.get('/objects/public/both.bin').buffer(true).parse(binary).expect(200);
    expect((both.body as Buffer).equals(first)).toBe(true);
    const second = await t.request.get('/objects/public/old/only.bin').buffer(true).parse(binary).expect(200);
    expect((second.body as Buffer).equals(onlySecond)).toBe(true);
    await t.request.get('/objects/public/nowhere.bin').expect(404);
  });

  it.each([
    ['font/woff2', 'public, max-age=2592000, immutable'],
    ['text/css', 'public, max-age=86400, stale-while-revalidate=3600'],
    ['application/javascript', 'public, max-age=86400, stale-while-revalidate=3600'],
    ['video/mp4', 'public, max-age=604800, stale-if-error=86400'],
    ['image/webp', 'public, max-age=86400, stale-while-revalidate=604800'],
    ['application/pdf', 'public, max-age=43200'],
    ['application/octet-stream', 'public, max-age=3600'],
  ])('when the object is %s, then Cache-Control is "%s"', async (contentType, expected) => {
    const name = `typed/${contentType.replace('/', '-')}`;
    gcs.put('bucket-one', `media/${name}`, randomBytes(64), { contentType });
    const res = await t.request.head(`/objects/public/${name}`).expect(200);
    expect(res.headers['content-type']).toContain(contentType);
    expect(res.headers['cache-control']).toBe(expected);
  });

  it('when a private object is read, then only the owner recorded in the GCS metadata gets it', async () => {
    const owner = await registerUser(t.request);
    const other = await registerUser(t.request);
    const res = await upload(t, owner, pngBytes(300)).expect(201);
    expect(gcs.objects.get(`bucket-private/users/${res.body.key.slice('private/'.length)}`)?.resource).toMatchObject({
      metadata: { owner: owner.id },
    });
    await t.request.get(res.body.url).set('Cookie', owner.cookie).expect(200);
    await t.request.get(res.body.url).set('Cookie', other.cookie).expect(404);
    await t.request.get(res.body.url).expect(404);
  });

  it('when the upload is too large, then it is a 413 and GCS holds no new object', async () => {
    const vendor = await registerVendor(t);
    const before = gcs.objects.size;
    await upload(t, vendor, pngBytes(LIMIT + 10), { visibility: 'public' }).expect(413);
    expect(gcs.objects.size).toBe(before);
  });

  it('when the client drops the connection mid-upload, then GCS holds no new object', async () => {
    const user = await registerUser(t.request);
    const before = gcs.objects.size;
    const refused = waitForLog(t.logs, /upload not stored/, { onlyNew: true });
    await abortUploadMidway(base, user.cookie, 30_000, 10_000);
    expect(String((await refused).message)).toContain('request_aborted');
    expect(gcs.objects.size).toBe(before);
  });

  it('when GCS is down, then downloads and uploads answer 503 storage_unavailable (never 500) and recover after', async () => {
    const vendor = await registerVendor(t);
    const { body } = await upload(t, vendor, pngBytes(1_000), { visibility: 'public' }).expect(201);
    gcs.outage = true;
    try {
      const download = await t.request.get(body.url).expect(503);
      expect(download.body.error.code).toBe('storage_unavailable');
      expect(download.headers['retry-after']).toBe('5');
      const stored = await upload(t, vendor, pngBytes(1_000), { visibility: 'public' }).expect(503);
      expect(stored.body.error.code).toBe('storage_unavailable');
    } finally {
      gcs.outage = false;
    }
    await t.request.get(body.url).expect(200);
  });

  it('when reading the bytes fails after the lookup, then it is a 503 that carries none of the object headers', async () => {
    const vendor = await registerVendor(t);
    const { body } = await upload(t, vendor, pngBytes(1_000), { visibility: 'public' }).expect(201);
    gcs.mediaOutage = true;
    try {
      const res = await t.request.get(body.url).expect(503);
      expect(res.body.error.code).toBe('storage_unavailable');
      expect(res.headers['content-type']).toContain('application/json');
      for (const header of ['cache-control', 'etag', 'last-modified', 'accept-ranges', 'content-range']) {
        expect(res.headers[header]).toBeUndefined();
      }
    } finally {
      gcs.mediaOutage = false;
    }
  });

  it('when the client aborts a download, then the upstream GCS response is closed before it completes', async () => {
    const size = 24 * 1024 * 1024;
    gcs.put('bucket-one', 'media/big.bin', Buffer.alloc(size, 7));
    const upstream = gcs.nextMedia();
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${base}/objects/public/big.bin`, (res) => {
        expect(res.statusCode).toBe(200);
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
    });
    const media = await upstream;
    await media.closed;
    expect(media.completed).toBe(false);
    expect(media.bytesSent).toBeLessThan(size);
  });
});
