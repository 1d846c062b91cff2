import { createHash } from 'node:crypto';
import { startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('API reference page', () => {
  it('GET /api/docs is the Scalar page for /api/openapi.json, loading its script from this server and nothing from elsewhere', async () => {
    const res = await t.request.get('/api/docs').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('Scalar.createApiReference');
    expect(res.text).toContain('"url": "/api/openapi.json"');
    const scripts = [...res.text.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map(([, src]) => src);
    expect(scripts).toEqual(['/api/docs/scalar.js']);
    // No absolute URL anywhere in the page: nothing is fetched from a CDN or font host.
    expect(res.text).not.toMatch(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
  });

  it('the page has a CSP of its own allowing exactly its inline script (by hash) and same-origin scripts; the API keeps helmet’s', async () => {
    const res = await t.request.get('/api/docs').expect(200);
    const csp = String(res.headers['content-security-policy']);
    const inline = [...res.text.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map(([, body]) => body ?? '');
    expect(inline).toHaveLength(1);
    const hash = createHash('sha256')
      .update(inline[0] ?? '')
      .digest('base64');
    expect(csp).toContain(`script-src 'self' 'sha256-${hash}'`);
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");

    const api = await t.request.get('/api/products').expect(200);
    expect(api.headers['content-security-policy']).not.toContain('sha256-');
    expect(api.headers['content-security-policy']).toContain("script-src 'self'");
  });

  it('GET /api/docs has an ETag, and If-None-Match gets a 304 that keeps the page CSP', async () => {
    const res = await t.request.get('/api/docs').expect(200);
    expect(res.headers.etag).toMatch(/^"[^"]+"$/);
    const again = await t.request.get('/api/docs').set('If-None-Match', res.headers.etag!);
    expect(again.status).toBe(304);
    expect(again.headers['content-security-policy']).toBe(res.headers['content-security-policy']);
  });

  it('GET /api/docs/scalar.js is answered by this server: the Scalar bundle from node_modules', async () => {
    const res = await t.request
      .get('/api/docs/scalar.js')
      .buffer(true)
      .parse((stream, done) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    // The whole bundle (megabytes), not a stub.
    expect((res.body as Buffer).length).toBeGreaterThan(1_000_000);
  });

  it('GET /api/docs/scalar.js is compressed once, not per request: its br/gzip answer has an ETag, and If-None-Match gets a 304', async () => {
    // Compressing the 3.5 MB bundle costs ~60 ms of CPU: per request, anyone could keep the server busy with it.
    const gzip = await t.request.get('/api/docs/scalar.js').set('Accept-Encoding', 'gzip').expect(200);
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.headers.etag).toMatch(/^"[^"]+-gzip"$/);
    expect(gzip.headers.vary).toMatch(/Accept-Encoding/);
    expect(gzip.text).toContain('createApiReference');
    const again = await t.request.get('/api/docs/scalar.js').set('Accept-Encoding', 'gzip').set('If-None-Match', gzip.headers.etag!);
    expect(again.status).toBe(304);
    const br = await t.request.get('/api/docs/scalar.js').set('Accept-Encoding', 'br').expect(200);
    expect([br.headers['content-encoding'], br.headers['content-type']]).toEqual(['br', expect.stringMatching(/javascript/)]);
    expect(br.text).toBe(gzip.text);
  });
});
