import { startTestApp, type TestApp } from '../../support/app';
import { plantedCookie, sessionIdOf, sidCookie } from '../../support/session-cookie';
import { registerUser } from '../../support/users';

let t: TestApp;
let checkouts = 0;
const countCheckout = () => checkouts++;

beforeAll(async () => {
  // No periodic health ping on the session pool while a test counts its checkouts.
  t = await startTestApp({ env: { DB_HEALTH_INTERVAL: '3600000' } });
  t.sessionDatabase.pool.on('acquire', countCheckout);
});
afterAll(async () => {
  t.sessionDatabase.pool.off('acquire', countCheckout);
  await t.close();
});
beforeEach(() => {
  checkouts = 0;
});

async function sessionRows(): Promise<number> {
  return Number((await t.database.pool.query('SELECT count(*) AS n FROM session_store')).rows[0].n);
}

describe('when a request carries no session cookie', () => {
  it('then reads and unknown paths use no session pool connection, set no cookie and store no row', async () => {
    const rowsBefore = await sessionRows();
    for (let i = 0; i < 25; i++) {
      const read = await t.request.get('/api/products').expect(200);
      expect(read.headers['set-cookie']).toBeUndefined();
      const unknown = await t.request.get('/api/no-such-thing').expect(404);
      expect(unknown.headers['set-cookie']).toBeUndefined();
      const outside = await t.request.get('/nowhere').set('Cookie', 'theme=dark; xsid=1').expect(404);
      expect(outside.headers['set-cookie']).toBeUndefined();
    }
    expect(checkouts).toBe(0);
    expect(await sessionRows()).toBe(rowsBefore);
  });

  it('then signing up starts a session with one write to the session store and nothing to regenerate', async () => {
    const user = await registerUser(t.request);
    // The insert of the new row only (the old code also deleted the throw-away id it regenerated).
    expect(checkouts).toBe(1);
    const me = await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200);
    expect(me.body.user.id).toBe(user.id);
  });

  it('then signing in starts a session with one write to the session store', async () => {
    const user = await registerUser(t.request);
    checkouts = 0;
    const login = await t.request.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(200);
    expect(checkouts).toBe(1);
    const cookie = sidCookie(login.headers['set-cookie']);
    expect(sessionIdOf(cookie)).not.toBe(sessionIdOf(user.cookie));
    await t.request.get('/api/auth/me').set('Cookie', cookie).expect(200);
  });

  it('then signing out answers 204 and stores nothing', async () => {
    const rowsBefore = await sessionRows();
    await t.request.post('/api/auth/logout').expect(204);
    expect(checkouts).toBe(0);
    expect(await sessionRows()).toBe(rowsBefore);
  });
});

describe('when a request carries a session cookie that is no good', () => {
  it('then a forged cookie is served anonymously without reading the store', async () => {
    const read = await t.request.get('/api/products').set('Cookie', 'sid=s%3Aforged.not-a-signature').expect(200);
    expect(read.headers['set-cookie']).toBeUndefined();
    await t.request.get('/api/auth/me').set('Cookie', 'sid=s%3Aforged.not-a-signature').expect(401);
    expect(checkouts).toBe(0);
  });

  it('then an unknown or expired session is served anonymously after at most one store read', async () => {
    const unknown = plantedCookie('no-such-session', t.config.SESSION_SECRET);
    const read = await t.request.get('/api/products').set('Cookie', unknown).expect(200);
    expect(read.headers['set-cookie']).toBeUndefined();
    expect(checkouts).toBeLessThanOrEqual(1);

    const user = await registerUser(t.request);
    await t.database.pool.query(`UPDATE session_store SET expire = now() - interval '1 minute' WHERE sid = $1`, [sessionIdOf(user.cookie)]);
    checkouts = 0;
    await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(401);
    expect(checkouts).toBeLessThanOrEqual(1);
  });
});
