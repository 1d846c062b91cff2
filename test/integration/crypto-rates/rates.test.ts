import { startTestApp, type TestApp } from '../../support/app';
import { ManualClock } from '../../support/clock';
import { cryptoLogs, cryptoRatesOf } from '../../support/crypto-rates';
import {
  coinGeckoPrices,
  cryptoComparePrices,
  type FakeProvider,
  failures,
  price,
  startFakeProvider,
} from '../../support/fake-crypto-providers';
import { createTestDatabase } from '../../support/database';
import supertest from 'supertest';

const MIN = 60_000;
const ALL_GECKO_IDS = ['bitcoin', 'ethereum', 'tether', 'usd-coin', 'solana', 'matic-network', 'polkadot', 'avalanche-2'];

// Real-time limit per upstream call. No provider here hangs, so it is generous: on a loaded
// machine a slow local answer must not turn into a failure.
const UPSTREAM_TIMEOUT_MS = 5_000;

async function startWithProviders(clock: ManualClock, cg: FakeProvider, cc: FakeProvider, extra: Parameters<typeof startTestApp>[0] = {}) {
  return startTestApp({
    ...extra,
    env: { COINGECKO_API_URL: `${cg.url}/api/v3`, CRYPTOCOMPARE_API_URL: cc.url, ...extra.env },
    deps: { clock, cryptoRates: { timeoutMs: UPSTREAM_TIMEOUT_MS }, ...extra.deps },
  });
}

describe('healthy upstream', () => {
  const clock = new ManualClock();
  let cg: FakeProvider;
  let cc: FakeProvider;
  let t: TestApp;
  beforeAll(async () => {
    cg = await startFakeProvider(clock, coinGeckoPrices());
    cc = await startFakeProvider(clock, cryptoComparePrices());
    t = await startWithProviders(clock, cg, cc, { env: { COINGECKO_API_KEY: 'CG-demo-key-0123456789' } });
  });
  afterAll(async () => {
    await t.close();
    await Promise.all([cg.close(), cc.close()]);
  });

  it('when 200 requests arrive at once, then one batched CoinGecko call answers them all with fresh values', async () => {
    const base = await t.listen();
    const agent = supertest(base);
    const responses = await Promise.all(Array.from({ length: 200 }, () => agent.get('/api/crypto/rates?symbols=BTC,eth&vs=usd')));
    expect(responses.map((r) => r.status)).toEqual(Array(200).fill(200));
    for (const res of responses) {
      expect(res.body).toEqual({
        rates: {
          BTC: { usd: price('BTC'), tier: 'fresh', ageSeconds: 0, source: 'coingecko' },
          ETH: { usd: price('ETH'), tier: 'fresh', ageSeconds: 0, source: 'coingecko' },
        },
        breaker: 'closed',
      });
    }
    expect(cg.requests).toHaveLength(1);
    expect(cc.requests).toHaveLength(0);
    const call = cg.requests[0]!;
    expect(call.path).toBe('/api/v3/simple/price');
    expect(call.query.get('ids')!.split(',').sort()).toEqual([...ALL_GECKO_IDS].sort());
    expect(call.query.get('vs_currencies')).toBe('usd,eur,gbp');
    expect(call.headers['x-cg-demo-api-key']).toBe('CG-demo-key-0123456789');
    expect(t.logs.lines().join('\n')).not.toContain('CG-demo-key-0123456789');
  });

  it('while values are fresh, no upstream call is made; once stale they are served at once and refreshed in the background', async () => {
    clock.advance(4 * MIN);
    const fresh = await t.request.get('/api/crypto/rates?symbols=SOL&vs=eur').expect(200);
    expect(fresh.body.rates.SOL).toEqual({ eur: price('SOL', 'eur'), tier: 'fresh', ageSeconds: 240, source: 'coingecko' });
    expect(cg.requests).toHaveLength(1);

    clock.advance(2 * MIN);
    const stale = await t.request.get('/api/crypto/rates?symbols=SOL&vs=eur').expect(200);
    expect(stale.body.rates.SOL).toMatchObject({ tier: 'stale', ageSeconds: 360, source: 'coingecko' });
    await cryptoRatesOf(t).idle();
    expect(cg.requests).toHaveLength(2);
    const again = await t.request.get('/api/crypto/rates?symbols=SOL&vs=eur').expect(200);
    expect(again.body.rates.SOL).toMatchObject({ tier: 'fresh', ageSeconds: 0 });
    expect(cg.times[1]! - cg.times[0]!).toBeGreaterThanOrEqual(3_000);
  });

  it('omitting symbols returns every supported coin; vs defaults to usd', async () => {
    const res = await t.request.get('/api/crypto/rates').expect(200);
    expect(Object.keys(res.body.rates).sort()).toEqual(['AVAX', 'BTC', 'DOT', 'ETH', 'MATIC', 'SOL', 'USDC', 'USDT']);
    expect(res.body.rates.MATIC).toMatchObject({ usd: price('MATIC'), tier: 'fresh' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('a quote converts cents to the coin (8 places, rounded up) with a 15-minute expiry on the clock', async () => {
    const res = await t.request.get('/api/crypto/quote?amountCents=4561725&currency=usd&symbol=btc').expect(200);
    expect(res.body).toEqual({
      symbol: 'BTC',
      currency: 'usd',
      amountCents: 4561725,
      amount: '0.50000000',
      rate: price('BTC'),
      tier: 'fresh',
      source: 'coingecko',
      ageSeconds: 0,
      expiresAt: new Date(clock.now() + 15 * MIN).toISOString(),
    });
    const odd = await t.request.get('/api/crypto/quote?amountCents=1000&currency=usd&symbol=ETH').expect(200);
    // 10 / 3012.25 = 0.003319777…, rounded up at the 8th place.
    expect(odd.body.amount).toBe('0.00331978');
  });

  it('health and /metrics show breaker states, upstream calls and tiers', async () => {
    const health = await t.request.get('/api/health').expect(200);
    expect(health.body.status).toBe('ok');
    expect(health.body.components.cryptoRates).toMatchObject({
      status: 'ok',
      breaker: 'closed',
      upstreamCalls: 2,
      failures: 0,
      breakers: {
        coingecko: { state: 'closed', consecutiveFailures: 0, calls: 2, failures: 0 },
        cryptocompare: { state: 'closed', calls: 0 },
      },
      tiers: { held: { fresh: 24, stale: 0, fallback: 0, hardcoded: 0 } },
    });
    const metrics = await t.request.get('/metrics').expect(200);
    expect(metrics.text).toContain('crypto_rates_upstream_calls_total{provider="coingecko"} 2');
    expect(metrics.text).toContain('crypto_rates_breaker_state{provider="coingecko"} 0');
    expect(metrics.text).toMatch(/crypto_rates_served_total\{tier="fresh"\} [1-9]/);
  });

  it('the last good values are persisted in crypto_rates', async () => {
    const { rows } = await t.database.pool.query(
      `SELECT symbol, vs_currency, price, source FROM crypto_rates WHERE symbol = 'BTC' ORDER BY vs_currency`,
    );
    expect(rows).toEqual([
      { symbol: 'BTC', vs_currency: 'eur', price: price('BTC', 'eur'), source: 'coingecko' },
      { symbol: 'BTC', vs_currency: 'gbp', price: price('BTC', 'gbp'), source: 'coingecko' },
      { symbol: 'BTC', vs_currency: 'usd', price: price('BTC', 'usd'), source: 'coingecko' },
    ]);
  });

  it.each([
    ['an unknown symbol', 'symbols=BTC,DOGE', 'symbols.1'],
    ['an unsupported currency', 'vs=jpy', 'vs'],
    ['an empty symbol list', 'symbols=', 'symbols.0'],
    ['a repeated symbols parameter', 'symbols=BTC&symbols=ETH', 'symbols'],
    ['an unknown parameter', 'currency=usd', ''],
  ])('when rates are asked with %s, then 400 validation_failed and no upstream call', async (_what, query, path) => {
    const calls = cg.requests.length;
    const res = await t.request.get(`/api/crypto/rates?${query}`).expect(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.issues.map((i: { path: string[] }) => i.path.join('.'))).toContain(path);
    expect(cg.requests).toHaveLength(calls);
  });

  it.each([
    ['a negative amount', 'amountCents=-5&currency=usd&symbol=BTC', 'amountCents'],
    ['a fractional amount', 'amountCents=1.5&currency=usd&symbol=BTC', 'amountCents'],
    ['a zero amount', 'amountCents=0&currency=usd&symbol=BTC', 'amountCents'],
    ['no amount', 'currency=usd&symbol=BTC', 'amountCents'],
    ['an unknown coin', 'amountCents=100&currency=usd&symbol=XRP', 'symbol'],
    ['no currency', 'amountCents=100&symbol=BTC', 'currency'],
  ])('when a quote is asked with %s, then 400 validation_failed', async (_what, query, path) => {
    const res = await t.request.get(`/api/crypto/quote?${query}`).expect(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.issues.map((i: { path: string[] }) => i.path.join('.'))).toContain(path);
  });
});

describe('ageing values while every provider fails', () => {
  const clock = new ManualClock();
  let cg: FakeProvider;
  let cc: FakeProvider;
  let t: TestApp;
  beforeAll(async () => {
    cg = await startFakeProvider(clock, coinGeckoPrices());
    cc = await startFakeProvider(clock, failures.serverError);
    t = await startWithProviders(clock, cg, cc);
    await t.request.get('/api/crypto/rates?symbols=BTC').expect(200);
    cg.answer(failures.serverError);
  });
  afterAll(async () => {
    await t.close();
    await Promise.all([cg.close(), cc.close()]);
  });

  it('when the value is 6 min old, then it is served as stale (and a background refresh is tried)', async () => {
    clock.advance(6 * MIN);
    const res = await t.request.get('/api/crypto/rates?symbols=BTC').expect(200);
    expect(res.body.rates.BTC).toEqual({ usd: price('BTC'), tier: 'stale', ageSeconds: 360, source: 'coingecko' });
    await cryptoRatesOf(t).idle();
    expect(cg.requests).toHaveLength(2);
    const quote = await t.request.get('/api/crypto/quote?amountCents=100&currency=usd&symbol=BTC').expect(200);
    expect(quote.body).toMatchObject({ tier: 'stale', source: 'coingecko', rate: price('BTC') });
  });

  it('when the value is 20 min old, then it is served as fallback and still quotable', async () => {
    clock.advance(14 * MIN);
    const res = await t.request.get('/api/crypto/rates?symbols=BTC').expect(200);
    expect(res.body.rates.BTC).toEqual({ usd: price('BTC'), tier: 'fallback', ageSeconds: 1200, source: 'coingecko' });
    const quote = await t.request.get('/api/crypto/quote?amountCents=100&currency=usd&symbol=BTC').expect(200);
    expect(quote.body).toMatchObject({ tier: 'fallback', ageSeconds: 1200 });
  });

  it('when the value is 70 min old, then the built-in table is served, flagged hardcoded, and a quote is refused with 503', async () => {
    clock.advance(50 * MIN);
    const res = await t.request.get('/api/crypto/rates?symbols=BTC').expect(200);
    expect(res.body.rates.BTC).toEqual({ usd: expect.any(Number), tier: 'hardcoded', ageSeconds: null, source: 'hardcoded' });
    expect(res.body.rates.BTC.usd).not.toBe(price('BTC'));
    clock.advance(3_000);
    const quote = await t.request.get('/api/crypto/quote?amountCents=100&currency=usd&symbol=BTC').expect(503);
    expect(quote.body.error.code).toBe('crypto_rates_unavailable');
    expect(quote.headers['retry-after']).toBe('30');
    expect(cryptoLogs(t)).toEqual(expect.arrayContaining([expect.stringMatching(/^\[CRYPTO-API\] coingecko failure 1\/5: HTTP 500/)]));
  });
});

describe('restart during an outage', () => {
  it('when a new instance starts on the same database while every provider fails, then it serves the persisted values as fallback', async () => {
    const clock = new ManualClock();
    const cg = await startFakeProvider(clock, coinGeckoPrices());
    const cc = await startFakeProvider(clock, failures.serverError);
    const testDatabase = await createTestDatabase();
    try {
      const first = await startWithProviders(clock, cg, cc, { testDatabase });
      await first.request.get('/api/crypto/rates?symbols=ETH&vs=gbp').expect(200);
      await first.close();

      cg.answer(failures.serverError);
      clock.advance(20 * MIN);
      const second = await startWithProviders(clock, cg, cc, { testDatabase });
      try {
        const res = await second.request.get('/api/crypto/rates?symbols=ETH&vs=gbp').expect(200);
        expect(res.body.rates.ETH).toEqual({ gbp: price('ETH', 'gbp'), tier: 'fallback', ageSeconds: 1200, source: 'coingecko' });
        await second.request.get('/api/crypto/quote?amountCents=5000&currency=gbp&symbol=ETH').expect(200);
      } finally {
        await second.close();
      }
    } finally {
      await testDatabase.drop();
      await Promise.all([cg.close(), cc.close()]);
    }
  });
});
