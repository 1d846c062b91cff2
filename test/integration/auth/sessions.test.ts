import { ManualClock } from '../../support/clock';
import { startTestApp, type TestApp } from '../../support/app';
import { registerUser } from '../../support/users';

const TWO_HOURS_MS = 2 * 60 * 60 * 1000;

/** Counts every INSERT/UPDATE on session_store, whoever issues it. */
async function countSessionWrites(t: TestApp): Promise<() => Promise<number>> {
  await t.database.pool.query(`
    CREATE TABLE session_write_log (at timestamptz NOT NULL DEFAULT now());
    CREATE FUNCTION log_session_write() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN INSERT INTO session_write_log DEFAULT VALUES; RETURN NULL; END $$;
    CREATE TRIGGER session_write_counter AFTER INSERT OR UPDATE ON session_store
      FOR EACH ROW EXECUTE FUNCTION log_session_write();`);
  return async () => Number((await t.database.pool.query('SELECT count(*) AS n FROM session_write_log')).rows[0].n);
}

describe('touch-after', () => {
  const clock = new ManualClock();
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ deps: { clock } });
  });
  afterAll(() => t.close());

  it('200 signed-in reads write the session row at most once; a read after SESSION_TOUCH_AFTER writes it', async () => {
    const writes = await countSessionWrites(t);
    const user = await registerUser(t.request);
    const afterSignIn = await writes();
    expect(afterSignIn).toBeGreaterThanOrEqual(1);

    for (let i = 0; i < 200; i++) {
      clock.advance(1_000);
      await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200);
    }
    expect((await writes()) - afterSignIn).toBeLessThanOrEqual(1);

    // Age the stored expiry by a day so the touch's extension is visible whatever the wall clock did.
    const { rows: before } = await t.database.pool.query(`UPDATE session_store SET expire = expire - interval '1 day' RETURNING expire`);
    clock.advance(TWO_HOURS_MS);
    const beforeTouch = await writes();
    await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200);
    expect((await writes()) - beforeTouch).toBe(1);
    const { rows: after } = await t.database.pool.query('SELECT expire FROM session_store');
    // The touch extends the expiry (TTL counted from the touch).
    expect(new Date(after[0].expire).getTime()).toBeGreaterThan(new Date(before[0].expire).getTime());
  });

  it('health reports the active session count and the session pool', async () => {
    await registerUser(t.request);
    const res = await t.request.get('/api/health').expect(200);
    expect(res.body.components.sessions).toMatchObject({ status: 'ok', tableReady: true });
    expect(res.body.components.sessions.activeSessions).toBeGreaterThanOrEqual(1);
    expect(res.body.components.sessions.pool).toEqual(
      expect.objectContaining({ total: expect.any(Number), idle: expect.any(Number), waiting: 0 }),
    );
  });
});

describe('sessions are shared through Postgres', () => {
  it('a session created on one instance works on another and survives a restart', async () => {
    const a = await startTestApp();
    const b = await startTestApp({ testDatabase: a.testDatabase });
    try {
      const user = await registerUser(a.request);
      const me = await b.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200);
      expect(me.body.user.id).toBe(user.id);
      await b.close();
      const restarted = await startTestApp({ testDatabase: a.testDatabase });
      try {
        await restarted.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200);
      } finally {
        await restarted.close();
      }
    } finally {
      await a.close();
    }
  });
});

describe('rate limits', () => {
  it('the 11th auth attempt in a minute from one IP is a 429 with Retry-After, counted across instances', async () => {
    const env = { RATE_LIMIT_AUTH_PER_MIN: '10' };
    const a = await startTestApp({ env });
    const b = await startTestApp({ env, testDatabase: a.testDatabase });
    try {
      const attempt = (t: TestApp) => t.request.post('/api/auth/login').send({ email: 'x@example.com', password: 'wrong password' });
      for (let i = 0; i < 5; i++) expect((await attempt(a)).status).toBe(401);
      for (let i = 0; i < 5; i++) expect((await attempt(b)).status).toBe(401);
      const limited = await attempt(a);
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('rate_limited');
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect((await attempt(b)).status).toBe(429);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('the reads limit applies per IP to anonymous /api reads but never to health probes', async () => {
    const t = await startTestApp({ env: { RATE_LIMIT_READS_PER_MIN: '3' } });
    try {
      for (let i = 0; i < 3; i++) await t.request.get('/api/auth/me').expect(401);
      const limited = await t.request.get('/api/auth/me').expect(429);
      expect(limited.headers['retry-after']).toBeDefined();
      await t.request.get('/api/health/live').expect(200);
    } finally {
      await t.close();
    }
  });
});
