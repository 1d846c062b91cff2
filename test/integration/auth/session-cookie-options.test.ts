import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore } from '../../support/catalogue';
import { registerUser } from '../../support/users';
import { refusedUpgradeStatus, TestWsClient } from '../../support/ws-client';

const PROXY_WARNING = /X-Forwarded-Proto: https .* TRUST_PROXY does not trust it/;

function setCookieOf(headers: Record<string, unknown>): string[] {
  const value = headers['set-cookie'];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

describe('a custom session cookie: SESSION_COOKIE_NAME, SESSION_COOKIE_SAMESITE=strict, SESSION_COOKIE_DOMAIN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { SESSION_COOKIE_NAME: 'mp_session', SESSION_COOKIE_SAMESITE: 'strict', SESSION_COOKIE_DOMAIN: 'shop.test' },
    });
  });
  afterAll(() => t.close());

  it('sign-up sets the cookie under that name with SameSite=Strict and the domain; no sid cookie', async () => {
    const res = await t.request
      .post('/api/auth/register')
      .send({ email: 'custom-cookie@example.com', password: 'pw-8f3k2m9q1x7z', name: 'C' });
    expect(res.status).toBe(201);
    const cookies = setCookieOf(res.headers);
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/^mp_session=s%3A/);
    expect(cookies[0]).toMatch(/; Domain=shop\.test/);
    expect(cookies[0]).toMatch(/; SameSite=Strict/);
    expect(cookies[0]).toMatch(/; HttpOnly/);
    // Not production and not SameSite=None: plain http keeps working for development.
    expect(cookies[0]).not.toMatch(/; Secure/);
  });

  it('the session works under the custom name (signed-in reads and writes), a sid cookie with the same value does not, and logout clears it on the same domain', async () => {
    const vendor = await openStore(t.request, 'Custom Cookie Store', 'mp_session');
    const product = await listProduct(t.request, vendor);
    expect(product.id).toEqual(expect.any(String));
    const me = await t.request.get('/api/auth/me').set('Cookie', vendor.cookie).expect(200);
    expect(me.body.user.id).toBe(vendor.id);
    // The same signed value under the default name is not a session on this server.
    const asSid = vendor.cookie.replace(/^mp_session=/, 'sid=');
    await t.request.get('/api/auth/me').set('Cookie', asSid).expect(401);

    const out = await t.request.post('/api/auth/logout').set('Cookie', vendor.cookie).expect(204);
    const cleared = setCookieOf(out.headers);
    expect(cleared).toHaveLength(1);
    expect(cleared[0]).toMatch(/^mp_session=;/);
    // A browser only deletes the cookie when name, domain and path match the one it holds.
    expect(cleared[0]).toMatch(/; Domain=shop\.test/);
    expect(cleared[0]).toMatch(/; Path=\//);
    await t.request.get('/api/auth/me').set('Cookie', vendor.cookie).expect(401);
  });

  it('a WebSocket upgrade is signed in by the custom cookie, and refused 401 with only a sid cookie', async () => {
    const url = await t.listen();
    const alice = await registerUser(t.request, { cookieName: 'mp_session' });
    const bob = await registerUser(t.request, { cookieName: 'mp_session' });
    const client = await TestWsClient.connect(url, { cookie: alice.cookie });
    try {
      client.send({ type: 'message.send', to: bob.id, body: 'hello under mp_session' });
      expect((await client.next('message.new')).message).toMatchObject({ body: 'hello under mp_session', from: alice.id });
    } finally {
      await client.close();
    }
    expect(await refusedUpgradeStatus(url, { Cookie: alice.cookie.replace(/^mp_session=/, 'sid=') })).toBe(401);
  });

  it('the OpenAPI document names the cookie a client must send', async () => {
    const doc = await t.request.get('/api/openapi.json').expect(200);
    expect(doc.body.components.securitySchemes.session).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'mp_session' });
  });
});

describe('SESSION_COOKIE_SAMESITE=none behind a trusted TLS proxy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SESSION_COOKIE_SAMESITE: 'none', TRUST_PROXY: 'loopback' } });
  });
  afterAll(() => t.close());

  it('the cookie is SameSite=None and Secure (forced, even outside production), under the default name sid with no Domain; no proxy warning', async () => {
    const res = await t.request
      .post('/api/auth/register')
      .set('X-Forwarded-Proto', 'https')
      .send({ email: 'samesite-none@example.com', password: 'pw-8f3k2m9q1x7z', name: 'N' })
      .expect(201);
    const cookies = setCookieOf(res.headers);
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/^sid=s%3A/);
    expect(cookies[0]).toMatch(/; SameSite=None/);
    expect(cookies[0]).toMatch(/; Secure/);
    expect(cookies[0]).not.toMatch(/Domain=/);
    expect(t.logs.lines().some((l) => PROXY_WARNING.test(l))).toBe(false);
  });
});

describe('the TLS-proxy trap: X-Forwarded-Proto: https while TRUST_PROXY=false', () => {
  let t: TestApp;
  beforeAll(async () => {
    // SameSite=None makes the cookie Secure outside production, as production does for every cookie.
    t = await startTestApp({ env: { SESSION_COOKIE_SAMESITE: 'none', TRUST_PROXY: 'false' } });
  });
  afterAll(() => t.close());

  it('sign-up answers 201 without a cookie (the trap), and the server logs one clear warning, not one per request', async () => {
    await t.request.get('/api/health/live').expect(200);
    expect(t.logs.lines().some((l) => PROXY_WARNING.test(l))).toBe(false);

    const res = await t.request
      .post('/api/auth/register')
      .set('X-Forwarded-Proto', 'https')
      .send({ email: 'trap@example.com', password: 'pw-8f3k2m9q1x7z', name: 'T' })
      .expect(201);
    expect(setCookieOf(res.headers)).toEqual([]);
    await t.request.get('/api/health/live').set('X-Forwarded-Proto', 'https').expect(200);
    await t.request.get('/api/products').set('X-Forwarded-Proto', 'https').expect(200);

    const warnings = t.logs.entries.filter((e) => PROXY_WARNING.test(String(e.message)));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn' });
    expect(String(warnings[0]!.message)).toMatch(/Secure session cookie/);
    expect(String(warnings[0]!.message)).toMatch(/Set TRUST_PROXY/);
  });
});

describe('a __Host- cookie name outside production (a staging deploy behind https with NODE_ENV unset)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SESSION_COOKIE_NAME: '__Host-sid', TRUST_PROXY: 'loopback' } });
  });
  afterAll(() => t.close());

  it('the cookie is Secure (browsers drop a __Host- or __Secure- cookie without it), Path=/ and no Domain', async () => {
    const res = await t.request
      .post('/api/auth/register')
      .set('X-Forwarded-Proto', 'https')
      .send({ email: 'host-prefix@example.com', password: 'pw-8f3k2m9q1x7z', name: 'H' })
      .expect(201);
    const cookies = setCookieOf(res.headers);
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/^__Host-sid=s%3A/);
    expect(cookies[0]).toMatch(/; Secure/);
    expect(cookies[0]).toMatch(/; Path=\//);
    expect(cookies[0]).not.toMatch(/Domain=/);
  });
});
