import pg from 'pg';
import { startTestApp, type TestApp } from '../../support/app';

/*
 * Load-rationing buckets count in memory and sync with Postgres in batches: several instances
 * share one budget, overshooting it by little, and a read costs the limiter no statement.
 */
const LIMIT = 100;

/** Statements the rate limiter sent to Postgres since `spy` was (re)set. */
const limiterStatements = (spy: jest.SpyInstance) =>
  spy.mock.calls.filter(([config]) => {
    const text = typeof config === 'string' ? config : (config as { text?: string } | undefined)?.text;
    return text?.includes('rate_limits') ?? false;
  }).length;

describe('two instances on one database', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    // TRUST_PROXY lets each test be a client of its own (X-Forwarded-For), with a fresh budget.
    const env = { RATE_LIMIT_READS_PER_MIN: String(LIMIT), RATE_LIMIT_SYNC_MS: '50', TRUST_PROXY: '1' };
    a = await startTestApp({ env });
    b = await startTestApp({ env, testDatabase: a.testDatabase });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('when one client hammers both instances concurrently, then together they admit at least the limit and at most 1.1× it', async () => {
    let admitted = 0;
    let refused = 0;
    for (let wave = 0; wave < 30; wave++) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).request.get('/api/auth/me').set('X-Forwarded-For', '203.0.113.1')),
      );
      for (const answer of answers) {
        if (answer.status === 429) refused++;
        else admitted++;
      }
    }
    expect(admitted + refused).toBe(300);
    expect(admitted).toBeGreaterThanOrEqual(LIMIT);
    expect(admitted).toBeLessThanOrEqual(LIMIT * 1.1);
  });

  it('when one client alternates between the instances one request at a time, then the shared budget holds within 1.1×', async () => {
    let admitted = 0;
    for (let i = 0; i < 2 * LIMIT; i++) {
      const answer = await (i % 2 === 0 ? a : b).request.get('/api/auth/me').set('X-Forwarded-For', '203.0.113.2');
      if (answer.status !== 429) admitted++;
    }
    expect(admitted).toBeGreaterThanOrEqual(LIMIT);
    expect(admitted).toBeLessThanOrEqual(LIMIT * 1.1);
  });
});

describe('statements on the request path', () => {
  it('when 1,000 anonymous reads arrive between two syncs, then the limiter sends no statement at all', async () => {
    const t = await startTestApp({ env: { RATE_LIMIT_SYNC_MS: '600000' } });
    const query = jest.spyOn(pg.Client.prototype, 'query');
    try {
      await t.request.get('/api/products').expect(200);
      query.mockClear();
      for (let i = 0; i < 1000; i++) await t.request.get('/api/products').expect(200);
      expect(limiterStatements(query)).toBe(0);
    } finally {
      query.mockRestore();
      await t.close();
    }
  });

  it('when reads keep arriving, then the limiter syncs with at most one statement per sync interval', async () => {
    const syncMs = 100;
    const t = await startTestApp({ env: { RATE_LIMIT_SYNC_MS: String(syncMs) } });
    const query = jest.spyOn(pg.Client.prototype, 'query');
    try {
      const started = Date.now();
      for (let i = 0; i < 1000; i++) await t.request.get('/api/products').expect(200);
      const elapsedMs = Date.now() - started;
      const statements = limiterStatements(query);
      expect(statements).toBeGreaterThanOrEqual(1);
      expect(statements).toBeLessThanOrEqual(Math.ceil(elapsedMs / syncMs) + 1);
    } finally {
      query.mockRestore();
      await t.close();
    }
  });
});
