import { existsSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import supertest from 'supertest';
import { UploadResult } from '../../../shared/contracts';
import { waitForLog } from '../../support/logger';
import { startTestApp, type TestApp } from '../../support/app';
import { binary, pdfBytes, pngBytes, registerVendor, upload } from '../../support/objects';
import { registerUser } from '../../support/users';

const LIMIT = 50_000;

/** Every regular file under DATA_DIR/objects (bytes, metadata and temp files alike). */
function storedFiles(t: TestApp): string[] {
  const root = path.join(t.config.DATA_DIR, 'objects');
  if (!existsSync(root)) return [];
  return (readdirSync(root, { recursive: true }) as string[]).filter((f) => statSync(path.join(root, f)).isFile());
}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { OBJECT_STORAGE_DRIVER: 'local', UPLOAD_MAX_BYTES: String(LIMIT) } });
});
afterAll(() => t.close());

describe('uploading', () => {
  it('when a vendor uploads a public PNG, then it answers 201 {key, url} and the bytes download with image caching', async () => {
    const vendor = await registerVendor(t);
    const bytes = pngBytes(12_345);
    const res = await upload(t, vendor, bytes, { visibility: 'public' }).expect(201);
    expect(UploadResult.parse(res.body)).toEqual({
      key: expect.stringMatching(/^public\/[0-9a-f-]{36}\.png$/),
      url: `/objects/${res.body.key}`,
      contentType: 'image/png',
      size: 12_345,
    });
    // Downloads are measured under their route pattern, not one series per object. The
    // measurement (and the access-log line) is taken when the server finishes the response,
    // which can be after the client has every byte: the file stream's end comes one more read
    // later. So download over a keep-alive connection to a server that stays up: a one-shot
    // connection (supertest's default) is closed by the client, or by supertest closing its
    // server, as soon as the bytes are in, and the unfinished response is then never logged.
    const keepAlive = new http.Agent({ keepAlive: true });
    try {
      const download = await supertest(await t.listen())
        .get(res.body.url)
        .agent(keepAlive)
        .buffer(true)
        .parse(binary)
        .expect(200);
      expect((download.body as Buffer).equals(bytes)).toBe(true);
      expect(download.headers['content-type']).toBe('image/png');
      expect(download.headers['cache-control']).toBe('public, max-age=86400, stale-while-revalidate=604800');
      // Storefronts on other origins embed product images.
      expect(download.headers['cross-origin-resource-policy']).toBe('cross-origin');
      await waitForLog(t.logs, (e) => e.message === '[HTTP] request' && e.route === '/objects/public/*path');
    } finally {
      keepAlive.destroy();
    }
    const metrics = await t.request.get('/metrics').expect(200);
    expect(metrics.text).toContain('route="/objects/public/*path"');
    expect(metrics.text).not.toContain(res.body.key);
  });

  it('when a PDF is uploaded, then it is cached for 12 hours', async () => {
    const vendor = await registerVendor(t);
    const res = await upload(t, vendor, pdfBytes(2_000), {
      visibility: 'public',
      filename: 'spec.pdf',
      contentType: 'application/pdf',
    }).expect(201);
    expect(res.body.contentType).toBe('application/pdf');
    const download = await t.request.head(res.body.url).expect(200);
    expect(download.headers['cache-control']).toBe('public, max-age=43200');
  });

  it('when nobody is signed in, then uploading is a 401', async () => {
    const res = await upload(t, undefined, pngBytes(100)).expect(401);
    expect(res.body.error.code).toBe('unauthorized');
  });

  it('when a buyer asks for a public upload, then it is a 403; a private one is fine', async () => {
    const buyer = await registerUser(t.request);
    const res = await upload(t, buyer, pngBytes(100), { visibility: 'public' }).expect(403);
    expect(res.body.error.code).toBe('vendor_required');
    await upload(t, buyer, pngBytes(100), { visibility: 'private' }).expect(201);
  });

  it('when visibility is neither private nor public, then it is a 400 validation error', async () => {
    const buyer = await registerUser(t.request);
    const res = await upload(t, buyer, pngBytes(100), { visibility: 'everyone' }).expect(400);
    expect(res.body.error.code).toBe('validation_failed');
  });

  it('when a text file claims to be image/png, then it is a 415 and nothing is stored', async () => {
    const vendor = await registerVendor(t);
    const before = storedFiles(t).length;
    const res = await upload(t, vendor, Buffer.from('hello, I am definitely a PNG\n'.repeat(400)), { visibility: 'public' }).expect(415);
    expect(res.body.error).toMatchObject({ code: 'unsupported_file_type', details: { allowed: expect.arrayContaining(['image/png']) } });
    expect(storedFiles(t)).toHaveLength(before);
  });

  it('when an SVG (script-capable) is uploaded, then it is a 415', async () => {
    const vendor = await registerVendor(t);
    const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    await upload(t, vendor, svg, { visibility: 'public', filename: 'x.svg', contentType: 'image/svg+xml' }).expect(415);
  });

  it('when the file is larger than UPLOAD_MAX_BYTES, then it is a 413 and nothing is left behind', async () => {
    const vendor = await registerVendor(t);
    const before = storedFiles(t).length;
    const res = await upload(t, vendor, pngBytes(LIMIT + 1), { visibility: 'public' }).expect(413);
    expect(res.body.error).toMatchObject({ code: 'payload_too_large', details: { maxBytes: LIMIT } });
    expect(storedFiles(t)).toHaveLength(before);
  });

  it('when the request declares a body far above the limit, then it is refused with 413 before reading it', async () => {
    const vendor = await registerVendor(t);
    await upload(t, vendor, pngBytes(LIMIT * 4), { visibility: 'public' }).expect(413);
  });

  it('when the file is exactly UPLOAD_MAX_BYTES, then it is accepted', async () => {
    const vendor = await registerVendor(t);
    const res = await upload(t, vendor, pngBytes(LIMIT), { visibility: 'public' }).expect(201);
    expect(res.body.size).toBe(LIMIT);
  });

  it('when the body is not multipart or has no file field, then it is a clear 4xx', async () => {
    const buyer = await registerUser(t.request);
    const json = await t.request.post('/api/uploads').set('Cookie', buyer.cookie).send({ file: 'x' }).expect(415);
    expect(json.body.error.code).toBe('multipart_required');
    const noFile = await t.request.post('/api/uploads').set('Cookie', buyer.cookie).field('other', 'value').expect(400);
    expect(noFile.body.error.code).toBe('file_required');
    const broken = await t.request
      .post('/api/uploads')
      .set('Cookie', buyer.cookie)
      .set('Content-Type', 'multipart/form-data; boundary=xyz')
      .send('--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\npartial')
      .expect(400);
    expect(broken.body.error.code).toBe('malformed_multipart');
  });
});

describe('private objects', () => {
  it('when the owner downloads a private object, then it is served with private caching; anyone else gets 404', async () => {
    const owner = await registerUser(t.request);
    const stranger = await registerUser(t.request);
    const bytes = pngBytes(3_000);
    const { body } = await upload(t, owner, bytes).expect(201);
    expect(body.key).toMatch(/^private\//);

    const mine = await t.request.get(body.url).set('Cookie', owner.cookie).buffer(true).parse(binary).expect(200);
    expect((mine.body as Buffer).equals(bytes)).toBe(true);
    expect(mine.headers['cache-control']).toBe('private, no-cache');

    const theirs = await t.request.get(body.url).set('Cookie', stranger.cookie).expect(404);
    expect(theirs.body.error.code).toBe('not_found');
    await t.request.get(body.url).expect(404);
    await t.request.head(body.url).set('Cookie', stranger.cookie).expect(404);
    await t.request.get(body.url).set('Cookie', stranger.cookie).set('Range', 'bytes=0-0').expect(404);
    // The same name under the public prefix is another bucket: not there.
    await t.request.get(body.url.replace('/objects/private/', '/objects/public/')).expect(404);
  });
});

describe('rate limit', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await startTestApp({ env: { RATE_LIMIT_UPLOADS_PER_MIN: '5' } });
  });
  afterAll(() => limited.close());

  it('when a user uploads a sixth time within a minute, then it is a 429 with Retry-After; other users are unaffected', async () => {
    const busy = await registerUser(limited.request);
    for (let i = 0; i < 5; i++) await upload(limited, busy, pngBytes(200)).expect(201);
    const res = await upload(limited, busy, pngBytes(200)).expect(429);
    expect(res.body.error.code).toBe('rate_limited');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const other = await registerUser(limited.request);
    await upload(limited, other, pngBytes(200)).expect(201);
  });
});

describe('attaching by key', () => {
  it('publicObjectExists is true for an uploaded public key only', async () => {
    const vendor = await registerVendor(t);
    const objects = t.app.modules.find((m) => m.name === 'objects') as unknown as { publicObjectExists(key: string): Promise<boolean> };
    const pub = await upload(t, vendor, pngBytes(100), { visibility: 'public' }).expect(201);
    const priv = await upload(t, vendor, pngBytes(100)).expect(201);
    expect(await objects.publicObjectExists(pub.body.key)).toBe(true);
    expect(await objects.publicObjectExists(priv.body.key)).toBe(false);
    expect(await objects.publicObjectExists('public/does-not-exist.png')).toBe(false);
    expect(await objects.publicObjectExists('public/../../etc/passwd')).toBe(false);
  });
});
