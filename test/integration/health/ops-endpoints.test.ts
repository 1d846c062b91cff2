import pg from 'pg';
import { startTestApp, type TestApp } from '../../support/app';
import { createTestDatabase, openTestDatabase } from '../../support/database';
import { captureLogger } from '../../support/logger';

/*
 * Issue 16, point 6: in production the operational endpoints (versions, memory, pools, database
 * errors) answer only a caller holding OPS_TOKEN; live and ready stay public, minimal and cheap.
 */
const OPS_TOKEN = 'ops-token-for-the-tests-0123456789abcdef';
const OPS_ENDPOINTS = ['/metrics', '/api/health', '/api/health/ws-stats'];

/** What production demands; nothing is ever called with these keys here. */
function productionEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    SESSION_SECRET: 'a-production-grade-secret-of-forty-chars!',
    PUBLIC_OBJECT_SEARCH_PATHS: '/shop-public/public',
    PUBLIC_BASE_URL: 'https://api.shop.example.com',
    PRIVATE_OBJECT_DIR: '/shop-private/private',
    STRIPE_SECRET_KEY: 'sk_live_placeholder_for_config_only',
    STRIPE_PUBLISHABLE_KEY: 'pk_live_placeholder_for_config_only',
    STRIPE_WEBHOOK_SECRET: 'whsec_placeholder',
    BREVO_API_KEY: 'xkeysib-placeholder',
    BREVO_API_URL: 'http://127.0.0.1:9/v3',
    STRIPE_API_URL: 'http://127.0.0.1:9',
    // No periodic ping during the statement count.
    DB_HEALTH_INTERVAL: '3600000',
    ...extra,
  };
}

/** Internals a public probe must not show. */
function expectNoInternals(body: unknown): void {
  const text = JSON.stringify(body);
  for (const secretish of ['version', 'memory', 'rss', 'heap', 'pool', 'uptime', 'postgres', 'password', 'ECONNREFUSED']) {
    expect(text.toLowerCase()).not.toContain(secretish.toLowerCase());
  }
}

describe('in production with OPS_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: productionEnv({ OPS_TOKEN }) });
  });
  afterAll(() => t.close());

  it.each(OPS_ENDPOINTS)('when %s is asked without the token, then it is 401 and shows nothing', async (path) => {
    const res = await t.request.get(path).expect(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.body.error.code).toBe('unauthorized');
    expect(res.text).not.toMatch(/heap|pool|nodejs|process_/i);
  });

  it.each(OPS_ENDPOINTS)('when %s is asked with a wrong or malformed token, then it is 401', async (path) => {
    await t.request.get(path).set('Authorization', 'Bearer not-the-ops-token').expect(401);
    await t.request.get(path).set('Authorization', `Bearer ${OPS_TOKEN}x`).expect(401);
    await t.request.get(path).set('Authorization', `Basic ${OPS_TOKEN}`).expect(401);
    await t.request.get(path).set('Authorization', OPS_TOKEN).expect(401);
  });

  it('when the operator sends the token, then metrics, the detailed health and ws-stats answer 200', async () => {
    const bearer = `Bearer ${OPS_TOKEN}`;
    const metrics = await t.request.get('/metrics').set('Authorization', bearer).expect(200);
    expect(metrics.text).toContain('process_cpu_user_seconds_total');
    const health = await t.request.get('/api/health').set('Authorization', bearer).expect(200);
    expect(health.body.memory.rssBytes).toEqual(expect.any(Number));
    const ws = await t.request.get('/api/health/ws-stats').set('Authorization', bearer).expect(200);
    expect(ws.body.connections).toEqual({ total: expect.any(Number), active: expect.any(Number), peak: expect.any(Number) });
  });

  it('live and ready answer anyone, without versions, memory or pool details', async () => {
    const live = await t.request.get('/api/health/live').expect(200);
    expect(live.body).toEqual({ status: 'ok' });
    const ready = await t.request.get('/api/health/ready').expect(200);
    expect(ready.body).toEqual({ ready: true, reasons: [] });
    expectNoInternals(live.body);
    expectNoInternals(ready.body);
  });

  it('ready costs at most one SQL statement per call (the detailed report costs more, behind the token)', async () => {
    const query = jest.spyOn(pg.Client.prototype, 'query');
    const statements = () =>
      query.mock.calls.filter(([config]) => {
        const text = typeof config === 'string' ? config : (config as { text?: string } | undefined)?.text;
        // pg-boss polls its own schema and the limiter syncs its counts in the background; neither is the probe's cost.
        return !text?.includes('pgboss') && !text?.includes('rate_limits');
      }).length;
    try {
      for (let i = 0; i < 5; i += 1) {
        query.mockClear();
        await t.request.get('/api/health/ready').expect(200);
        expect(statements()).toBeLessThanOrEqual(1);
      }
      query.mockClear();
      await t.request.get('/api/health/live').expect(200);
      expect(statements()).toBe(0);
      query.mockClear();
      await t.request.get('/api/health').set('Authorization', `Bearer ${OPS_TOKEN}`).expect(200);
      expect(statements()).toBeGreaterThan(1);
    } finally {
      query.mockRestore();
    }
  });
});

describe('in production without OPS_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: productionEnv() });
  });
  afterAll(() => t.close());

  it.each(OPS_ENDPOINTS)('when %s is asked, then it is closed (401) to everyone, whatever token is sent', async (path) => {
    await t.request.get(path).expect(401);
    await t.request.get(path).set('Authorization', 'Bearer anything').expect(401);
  });

  it('live and ready still answer', async () => {
    await t.request.get('/api/health/live').expect(200, { status: 'ok' });
    await t.request.get('/api/health/ready').expect(200, { ready: true, reasons: [] });
  });
});

describe('in development or test with OPS_TOKEN set', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { OPS_TOKEN } });
  });
  afterAll(() => t.close());

  it('the token is required there too (only an unset token leaves them open outside production)', async () => {
    await t.request.get('/metrics').expect(401);
    await t.request.get('/metrics').set('Authorization', `Bearer ${OPS_TOKEN}`).expect(200);
  });
});

describe('when the database refuses the app', () => {
  /** The same server with a wrong password: every connection fails with `password authentication failed for user "postgres"`. */
  const withWrongPassword = (url: string) => url.replace('postgres:postgres@', 'postgres:wrong-password@');
  const DB_ERROR = /password authentication failed|postgres"/i;

  it('when the app pool cannot sign in, then ready is 503 "database unreachable" without the error, and only the operator sees it', async () => {
    const capture = captureLogger();
    const testDatabase = await createTestDatabase();
    const database = openTestDatabase(withWrongPassword(testDatabase.url), capture.logger, { connectionTimeoutMillis: 2_000 });
    const t = await startTestApp({ env: productionEnv({ OPS_TOKEN }), capture, testDatabase, database });
    try {
      const ready = await t.request.get('/api/health/ready').expect(503);
      expect(ready.body).toEqual({ ready: false, reasons: ['database unreachable'] });
      expect(ready.text).not.toMatch(DB_ERROR);
      await t.request.get('/api/health').expect(401);
      const detailed = await t.request.get('/api/health').set('Authorization', `Bearer ${OPS_TOKEN}`).expect(503);
      expect(detailed.body.components.database.error).toMatch(/password authentication failed/);
    } finally {
      await t.close();
      await database.close();
      await testDatabase.drop();
    }
  });

  it('when the session pool cannot sign in, then ready names the session table without the database error', async () => {
    const capture = captureLogger();
    const testDatabase = await createTestDatabase();
    const sessionDatabase = openTestDatabase(withWrongPassword(testDatabase.url), capture.logger, { max: 2 });
    const t = await startTestApp({
      env: productionEnv({ OPS_TOKEN, SESSION_INIT_RETRY_MS: '60000' }),
      capture,
      testDatabase,
      deps: { sessionDatabase },
    });
    try {
      const ready = await t.request.get('/api/health/ready').expect(503);
      expect(ready.body).toEqual({ ready: false, reasons: ['sessions: session table not initialised'] });
      expect(ready.text).not.toMatch(DB_ERROR);
      const detailed = await t.request.get('/api/health').set('Authorization', `Bearer ${OPS_TOKEN}`).expect(200);
      expect(detailed.body.components.sessions.tableError).toMatch(/password authentication failed/);
    } finally {
      await t.close();
      await sessionDatabase.close();
      await testDatabase.drop();
    }
  }, 20_000);
});
