import { parseConfig } from '../../../server/lib/config';
import { startTestApp, type TestApp } from '../../support/app';
import { pngBytes, registerVendor, upload } from '../../support/objects';
import { registerUser } from '../../support/users';
import { refusedUpgradeStatus, TestWsClient } from '../../support/ws-client';

const SHOP = 'https://shop.example.com';
const ADMIN = 'http://127.0.0.1:5173';
const EVIL = 'https://evil.example';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ env: { CORS_ORIGINS: `${SHOP}, ${ADMIN}` } });
});
afterAll(async () => {
  await t.close();
});

describe('CORS', () => {
  it('when a listed origin reads, it gets its own origin back with credentials and the exposed headers', async () => {
    const res = await t.request.get('/api/products').set('Origin', ADMIN).expect(200);
    expect(res.headers['access-control-allow-origin']).toBe(ADMIN);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['access-control-expose-headers']?.split(',')).toEqual(
      // Idempotent-Replayed: a storefront's retried checkout must be able to tell a replay from a new order.
      expect.arrayContaining(['RateLimit-Remaining', 'Retry-After', 'X-Request-Id', 'ETag', 'Idempotent-Replayed']),
    );
    expect(res.headers.vary).toMatch(/Origin/);
  });

  it('when an unlisted origin reads, the answer carries no CORS header at all', async () => {
    const res = await t.request.get('/api/products').set('Origin', EVIL).expect(200);
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('when a listed origin preflights, the answer is a 204 allowing the method and headers, cached 600 s', async () => {
    const res = await t.request
      .options('/api/orders')
      .set('Origin', SHOP)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type,idempotency-key')
      .expect(204);
    expect(res.headers['access-control-allow-origin']).toBe(SHOP);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['access-control-allow-methods']?.split(',')).toEqual(expect.arrayContaining(['POST', 'PATCH', 'DELETE']));
    expect(res.headers['access-control-allow-headers']?.split(',')).toEqual(
      expect.arrayContaining(['Content-Type', 'Idempotency-Key', 'X-Request-Id']),
    );
    expect(res.headers['access-control-max-age']).toBe('600');
  });

  it('when an unlisted origin preflights, no CORS header allows it', async () => {
    const res = await t.request.options('/api/orders').set('Origin', EVIL).set('Access-Control-Request-Method', 'POST');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('when a listed origin downloads a public object (cached publicly, e.g. by a CDN), the answer varies on Origin', async () => {
    const vendor = await registerVendor(t);
    const { body } = await upload(t, vendor, pngBytes(500), { visibility: 'public' }).expect(201);
    const path: string = body.url;
    const res = await t.request.get(path).set('Origin', SHOP).expect(200);
    expect(res.headers['access-control-allow-origin']).toBe(SHOP);
    expect(res.headers['cache-control']).toMatch(/public/);
    // Without Origin in Vary a shared cache hands this ACAO to every other origin (and to none).
    expect(res.headers.vary?.split(/\s*,\s*/)).toEqual(expect.arrayContaining(['Origin', 'Accept-Encoding']));
    const revalidated = await t.request.get(path).set('Origin', SHOP).set('If-None-Match', res.headers.etag!).expect(304);
    expect(revalidated.headers.vary?.split(/\s*,\s*/)).toEqual(expect.arrayContaining(['Origin', 'Accept-Encoding']));
  });

  it('when a request has no Origin, it gets no CORS headers (same-origin pages, servers, curl)', async () => {
    const res = await t.request.get('/api/products').expect(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CSRF origin check with CORS_ORIGINS', () => {
  it('when a listed origin changes state with its cookie, the request goes through', async () => {
    const user = await registerUser(t.request);
    const res = await t.request.post('/api/auth/logout').set('Origin', SHOP).set('Cookie', user.cookie);
    expect(res.status).toBeLessThan(300);
  });

  it('when an unlisted origin changes state, it is refused with 403 foreign_origin', async () => {
    const user = await registerUser(t.request);
    const res = await t.request.post('/api/auth/logout').set('Origin', EVIL).set('Cookie', user.cookie).expect(403);
    expect(res.body.error.code).toBe('foreign_origin');
    // Still signed in: the refused request changed nothing.
    await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200);
  });
});

describe('WebSocket origin check with CORS_ORIGINS', () => {
  it('when a listed origin opens /ws with its cookie, the upgrade is accepted; an unlisted one gets 403', async () => {
    const user = await registerUser(t.request);
    const url = await t.listen();
    const socket = await TestWsClient.connect(url, { cookie: user.cookie, origin: ADMIN });
    await socket.close();
    expect(await refusedUpgradeStatus(url, { Cookie: user.cookie, Origin: EVIL })).toBe(403);
  });
});

describe('CORS configuration', () => {
  const problemsOf = (env: Record<string, string>) => {
    const result = parseConfig(env);
    return result.ok ? [] : result.problems;
  };

  it('when a CORS_ORIGINS entry is not an exact origin, startup fails naming the entry', () => {
    expect(problemsOf({ CORS_ORIGINS: 'https://shop.example.com,https://admin.example.com/app' })).toEqual([
      { variable: 'CORS_ORIGINS', message: expect.stringContaining('entry "https://admin.example.com/app" is not an exact origin') },
    ]);
    expect(problemsOf({ CORS_ORIGINS: 'shop.example.com' })[0]?.message).toContain('entry "shop.example.com" is not a URL origin');
    expect(problemsOf({ CORS_ORIGINS: 'https://shop.example.com/' })[0]?.message).toContain('use "https://shop.example.com"');
    expect(problemsOf({ CORS_ORIGINS: 'ftp://files.example.com' })[0]?.message).toContain('http:// or https://');
  });

  it('when APP_ORIGIN holds a comma list, startup fails pointing at CORS_ORIGINS', () => {
    expect(problemsOf({ APP_ORIGIN: 'https://a.example.com,https://b.example.com' })).toEqual([
      { variable: 'APP_ORIGIN', message: expect.stringContaining('CORS_ORIGINS') },
    ]);
  });

  it('a valid list parses into exact origins, spaces and empty entries ignored', () => {
    const result = parseConfig({ CORS_ORIGINS: ' https://shop.example.com , http://127.0.0.1:5173,' });
    expect(result.ok && result.config.CORS_ORIGINS).toEqual(['https://shop.example.com', 'http://127.0.0.1:5173']);
  });
});
