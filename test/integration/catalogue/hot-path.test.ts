import pg from 'pg';
import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore } from '../../support/catalogue';

/*
 * The anonymous cached read is the hot path: it must not reach Postgres at all (the limiter counts
 * in memory, a request without a cookie does no session work, the cache holds the bytes). Counted
 * at the driver, so nothing that talks to Postgres escapes; the job queue's own polling and the
 * limiter's periodic sync run on timers, not on the request path, and are left out.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { RATE_LIMIT_SYNC_MS: '600000' } });
  const vendor = await openStore(t.request);
  await listProduct(t.request, vendor, { category: 'hot-path' });
});
afterAll(() => t.close());

const textOf = (args: unknown[]) => {
  const first = args[0] as string | { text?: string } | undefined;
  return typeof first === 'string' ? first : (first?.text ?? '');
};
const requestPathStatements = (query: jest.SpiedFunction<typeof pg.Client.prototype.query>) =>
  query.mock.calls.map(textOf).filter((text) => !/pgboss|rate_limits/i.test(text));

it('1,000 anonymous cached reads send no SQL statement at all', async () => {
  await t.request.get('/api/products?category=hot-path').expect(200);
  const query = jest.spyOn(pg.Client.prototype, 'query');
  try {
    for (let i = 0; i < 1000; i++) {
      const res = await t.request.get('/api/products?category=hot-path').expect(200);
      if (i === 0) expect(res.headers['x-cache']).toBe('HIT');
    }
    expect(requestPathStatements(query)).toEqual([]);
  } finally {
    query.mockRestore();
  }
});

it('concurrent misses of one list share one load: 20 readers, one query', async () => {
  const query = jest.spyOn(pg.Client.prototype, 'query');
  try {
    const answers = await Promise.all(Array.from({ length: 20 }, () => t.request.get('/api/products?category=hot-path&limit=7')));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((r) => r.headers.etag)).size).toBe(1);
    expect(requestPathStatements(query).filter((text) => /\bproducts\b/i.test(text))).toHaveLength(1);
  } finally {
    query.mockRestore();
  }
});
