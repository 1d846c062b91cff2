import { startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { RATE_LIMIT_SEARCH_PER_MIN: '3', RATE_LIMIT_READS_PER_MIN: '100' } });
});
afterAll(() => t.close());

it('searches (q given) spend their own per-IP budget: the 4th search in a minute is a 429 while plain listing still answers', async () => {
  for (const q of ['hat', 'merino', 'felt']) await t.request.get('/api/products').query({ q }).expect(200);
  const limited = await t.request.get('/api/products').query({ q: 'scarf' }).expect(429);
  expect(limited.body.error.code).toBe('rate_limited');
  expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

  await t.request.get('/api/products').expect(200);
  await t.request.get('/api/products').query({ sort: 'price_asc', limit: '5' }).expect(200);
  // An empty search term is a plain listing.
  await t.request.get('/api/products').query({ q: ' ' }).expect(200);
});
