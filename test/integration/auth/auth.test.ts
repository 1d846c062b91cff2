import { startTestApp, type TestApp } from '../../support/app';
import { startFakeBrevo } from '../../support/fake-brevo';
import { plantedCookie, sessionIdOf, sidCookie } from '../../support/session-cookie';
import { registerUser } from '../../support/users';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('register', () => {
  it('creates the account (argon2id hash), signs in with an HttpOnly SameSite=Lax cookie, answers 201', async () => {
    const res = await t.request
      .post('/api/auth/register')
      .send({ email: 'Ada@Example.com', password: 'correct horse battery', name: 'Ada' })
      .expect(201);
    expect(res.body.user).toMatchObject({ email: 'ada@example.com', name: 'Ada', role: 'buyer' });
    expect(res.body.user).not.toHaveProperty('passwordHash');
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('sid='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
    const { rows } = await t.database.pool.query(`SELECT password_hash FROM users WHERE email = 'ada@example.com'`);
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);
    await t.request.get('/api/auth/me').set('Cookie', sidCookie(res.headers['set-cookie'])).expect(200);
  });

  it('a second account with the same e-mail (any case) is a 409 email_taken', async () => {
    await registerUser(t.request, { email: 'dup@example.com' });
    const res = await t.request
      .post('/api/auth/register')
      .send({ email: 'DUP@example.com', password: 'another password', name: 'X' })
      .expect(409);
    expect(res.body.error.code).toBe('email_taken');
  });

  it('invalid input is a 400 listing every issue', async () => {
    const res = await t.request.post('/api/auth/register').send({ email: 'not-an-email', password: 'short', extra: 1 }).expect(400);
    expect(res.body.error.code).toBe('validation_failed');
    const paths = res.body.error.details.issues.map((i: { path: string[] }) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['email', 'password', 'name']));
    expect(res.body.error.details.issues.some((i: { code: string }) => i.code === 'unrecognized_keys')).toBe(true);
  });

  it('a body of the wrong type (array, string) is a 400, not a 500', async () => {
    await t.request.post('/api/auth/register').send([1, 2]).expect(400);
    await t.request.post('/api/auth/register').set('Content-Type', 'application/json').send('"text"').expect(400);
  });
});

describe('login and logout', () => {
  it('the right password signs in (200); a wrong one and an unknown e-mail get the same 401', async () => {
    const user = await registerUser(t.request);
    const ok = await t.request.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(200);
    expect(ok.body.user.email).toBe(user.email);
    const wrong = await t.request.post('/api/auth/login').send({ email: user.email, password: 'wrong password' }).expect(401);
    const unknown = await t.request.post('/api/auth/login').send({ email: 'nobody@example.com', password: 'wrong password' }).expect(401);
    expect(wrong.body.error.code).toBe('invalid_credentials');
    expect(unknown.body.error.message).toBe(wrong.body.error.message);
  });

  it('logout answers 204, deletes the stored session, and the old cookie no longer authenticates', async () => {
    const user = await registerUser(t.request);
    const sid = sessionIdOf(user.cookie);
    await t.request.post('/api/auth/logout').set('Cookie', user.cookie).expect(204);
    const { rowCount } = await t.database.pool.query('SELECT 1 FROM session_store WHERE sid = $1', [sid]);
    expect(rowCount).toBe(0);
    await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(401);
  });

  it('me without a session is 401 in the error shape', async () => {
    const res = await t.request.get('/api/auth/me').expect(401);
    expect(res.body.error.code).toBe('unauthorized');
  });
});

describe('session fixation', () => {
  it('a cookie held before login never authenticates after login: the id is regenerated', async () => {
    const user = await registerUser(t.request);
    const before = user.cookie;
    const login = await t.request
      .post('/api/auth/login')
      .set('Cookie', before)
      .send({ email: user.email, password: user.password })
      .expect(200);
    const after = sidCookie(login.headers['set-cookie']);
    expect(sessionIdOf(after)).not.toBe(sessionIdOf(before));
    await t.request.get('/api/auth/me').set('Cookie', before).expect(401);
    await t.request.get('/api/auth/me').set('Cookie', after).expect(200);
  });

  it('a planted (attacker-chosen, validly signed) session id is replaced at login', async () => {
    const user = await registerUser(t.request);
    const planted = plantedCookie('attacker-chosen-session-id', t.config.SESSION_SECRET);
    const login = await t.request
      .post('/api/auth/login')
      .set('Cookie', planted)
      .send({ email: user.email, password: user.password })
      .expect(200);
    expect(sessionIdOf(sidCookie(login.headers['set-cookie']))).not.toBe('attacker-chosen-session-id');
    await t.request.get('/api/auth/me').set('Cookie', planted).expect(401);
  });
});

describe('secrets in logs', () => {
  it('no log line contains a password or a session id', async () => {
    const password = 'Sup3r-Secret-Passw0rd!';
    const user = await registerUser(t.request, { password });
    await t.request.post('/api/auth/login').send({ email: user.email, password }).expect(200);
    await t.request
      .post('/api/auth/login')
      .send({ email: user.email, password: `${password}-wrong` })
      .expect(401);
    await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200);
    const sid = sessionIdOf(user.cookie);
    const lines = t.logs.lines();
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      expect(line).not.toContain(password);
      expect(line).not.toContain(sid);
    }
  });
});

describe('origin check', () => {
  it('a state-changing request from a foreign Origin is refused with 403', async () => {
    const res = await t.request
      .post('/api/auth/login')
      .set('Origin', 'https://evil.example')
      .send({ email: 'a@b.c', password: 'x' })
      .expect(403);
    expect(res.body.error.code).toBe('foreign_origin');
  });

  it('the same request from the app’s own origin goes through', async () => {
    // The browser sends the page's own origin, which is the Host the request went to.
    const res = await t.request
      .post('/api/auth/login')
      .set('Host', 'shop.example')
      .set('Origin', 'http://shop.example')
      .send({ email: 'a@b.c', password: 'x' })
      .expect(401);
    expect(res.body.error.code).toBe('invalid_credentials');
  });
});

describe('behind a TLS-terminating proxy in production', () => {
  it('the session cookie is Secure, and TRUST_PROXY makes the forwarded protocol count', async () => {
    const brevo = await startFakeBrevo();
    const prod = await startTestApp({
      env: {
        NODE_ENV: 'production',
        TRUST_PROXY: '1',
        SESSION_SECRET: 'a-production-grade-secret-of-forty-chars!',
        PUBLIC_OBJECT_SEARCH_PATHS: '/shop-public/public',
        PUBLIC_BASE_URL: 'https://api.shop.example.com',
        PRIVATE_OBJECT_DIR: '/shop-private/private',
        // Production demands live-looking keys; nothing is called with them here.
        STRIPE_SECRET_KEY: 'sk_live_placeholder_for_config_only',
        STRIPE_PUBLISHABLE_KEY: 'pk_live_placeholder_for_config_only',
        STRIPE_WEBHOOK_SECRET: 'whsec_placeholder',
        BREVO_API_KEY: 'xkeysib-placeholder',
        BREVO_API_URL: `${brevo.url}/v3`,
        STRIPE_API_URL: 'http://127.0.0.1:9',
      },
    });
    try {
      const res = await prod.request
        .post('/api/auth/register')
        .set('X-Forwarded-Proto', 'https')
        .send({ email: 'secure@example.com', password: 'a long password', name: 'Secure' })
        .expect(201);
      const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('sid='))!;
      expect(cookie).toMatch(/; Secure/);
      expect(cookie).toMatch(/HttpOnly/);
    } finally {
      await prod.close();
      await brevo.close();
    }
  });
});
