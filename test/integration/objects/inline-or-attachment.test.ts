import { Readable } from 'node:stream';
import { createStorageDriver } from '../../../server/modules/objects';
import { startTestApp, type TestApp } from '../../support/app';
import { pdfBytes, pngBytes, registerVendor, upload } from '../../support/objects';
import { registerUser } from '../../support/users';

/*
 * Uploads are served from the API's own origin: only safe raster images may render inline;
 * everything else downloads, and every object answer is sandboxed (no script on this origin).
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { OBJECT_STORAGE_DRIVER: 'local' } });
});
afterAll(() => t.close());

const expectSandboxed = (headers: Record<string, string>) => {
  expect(headers['content-security-policy']).toBe('sandbox');
  expect(headers['x-content-type-options']).toBe('nosniff');
};

describe('how objects are served', () => {
  it('when an uploaded PDF is downloaded, then it is an attachment under CSP sandbox (GET and HEAD)', async () => {
    const user = await registerUser(t.request);
    const { body } = await upload(t, user, pdfBytes(2_000), { filename: 'invoice.pdf', contentType: 'application/pdf' }).expect(201);
    for (const method of ['get', 'head'] as const) {
      const res = await t.request[method](body.url).set('Cookie', user.cookie).expect(200);
      expect(res.headers['content-type']).toBe('application/pdf');
      expect(res.headers['content-disposition']).toMatch(/^attachment; filename="[0-9a-f-]{36}\.pdf"$/);
      expectSandboxed(res.headers);
    }
  });

  it('when an uploaded PNG is downloaded, then it is inline, still under CSP sandbox', async () => {
    const vendor = await registerVendor(t);
    const { body } = await upload(t, vendor, pngBytes(500), { visibility: 'public' }).expect(201);
    const res = await t.request.get(body.url).expect(200);
    expect(res.headers['content-disposition']).toBe('inline');
    expectSandboxed(res.headers);
  });

  it('when an SVG sits in the public bucket (placed there outside the upload route), then it is an attachment', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>';
    await createStorageDriver(t.config).write({
      bucket: 'marketplace-public',
      name: 'public/drawing.svg',
      contentType: 'image/svg+xml',
      owner: '00000000-0000-4000-8000-000000000000',
      source: Readable.from([Buffer.from(svg)]),
    });
    const res = await t.request.get('/objects/public/drawing.svg').expect(200);
    expect(res.headers['content-type']).toBe('image/svg+xml');
    expect(res.headers['content-disposition']).toBe('attachment; filename="drawing.svg"');
    expectSandboxed(res.headers);
  });

  it('when an object is missing or not modified, then the answer is sandboxed too', async () => {
    expectSandboxed((await t.request.get('/objects/public/missing.png').expect(404)).headers);
    const vendor = await registerVendor(t);
    const { body } = await upload(t, vendor, pngBytes(300), { visibility: 'public' }).expect(201);
    const first = await t.request.get(body.url).expect(200);
    const again = await t.request.get(body.url).set('If-None-Match', first.headers.etag!).expect(304);
    expectSandboxed(again.headers);
  });
});
