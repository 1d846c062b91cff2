import supertest from 'supertest';
import { startTestApp, type TestApp } from '../../support/app';
import { ManualClock } from '../../support/clock';
import { cryptoLogs, cryptoRatesOf } from '../../support/crypto-rates';
import {
  coinGeckoPrices,
  coinMarketCapPrices,
  cryptoComparePrices,
  type FakeProvider,
  failures,
  price,
  startFakeProvider,
} from '../../support/fake-crypto-providers';

const MIN = 60_000;

describe('primary rate-limited (429) five times', () => {
  const clock = new ManualClock();
  let cg: FakeProvider;
  let cc: FakeProvider;
  let t: TestApp;
  let openedAt: number;
  beforeAll(async () => {
    cg = await startFakeProvider(clock, failures.rateLimited);
    cc = await startFakeProvider(clock, cryptoComparePrices());
    t = await startTestApp({
      env: { COINGECKO_API_URL: `${cg.url}/api/v3`, CRYPTOCOMPARE_API_URL: cc.url, CRYPTOCOMPARE_API_KEY: 'cc-key-abcdef123456' },
      deps: { clock, cryptoRates: { timeoutMs: 300 } },
    });
  });
  afterAll(async () => {
    await t.close();
    await Promise.all([cg.close(), cc.close()]);
  });

  it('when CoinGecko answers 429, then CryptoCompare serves fresh values and each failure is logged n/5', async () => {
    for (let round = 1; round <= 4; round++) {
      // 16 minutes on: the held value is past stale, so the request waits for the refresh.
      if (round > 1) clock.advance(16 * MIN);
      const res = await t.request.get('/api/crypto/rates?symbols=BTC').expect(200);
      expect(res.body).toEqual({ rates: { BTC: { usd: price('BTC'), tier: 'fresh', ageSeconds: 0, source: 'cryptocompare' } }, breaker: 'closed' });
      expect(cg.requests).toHaveLength(round);
      expect(cryptoLogs(t)).toContain(`[CRYPTO-API] coingecko failure ${round}/5: HTTP 429`);
    }
    const call = cc.requests[0]!;
    expect(call.path).toBe('/data/pricemulti');
    expect(call.query.get('fsyms')).toBe('BTC,ETH,USDT,USDC,SOL,MATIC,DOT,AVAX');
    expect(call.query.get('tsyms')).toBe('USD,EUR,GBP');
    expect(call.headers.authorization).toBe('Apikey cc-key-abcdef123456');
  });

  it('when the fifth 429 arrives, then the breaker opens with its cooldown end logged', async () => {
    cc.answer(failures.serverError);
    clock.advance(16 * MIN);
    openedAt = clock.now();
    const res = await t.request.get('/api/crypto/rates?symbols=BTC').expect(200);
    // Both providers failed: the 16-minute-old CryptoCompare value is served as fallback.
    expect(res.body).toEqual({ rates: { BTC: { usd: price('BTC'), tier: 'fallback', ageSeconds: 960, source: 'cryptocompare' } }, breaker: 'open' });
    const logs = cryptoLogs(t);
    expect(logs).toContain('[CRYPTO-API] coingecko failure 5/5: HTTP 429');
    const until = new Date(openedAt + 5 * MIN).toISOString();
    expect(logs).toContain(`[CRYPTO-API] coingecko circuit open until ${until} (no calls during the 5 min cooldown)`);
    const health = await t.request.get('/api/health').expect(200);
    expect(health.body.components.cryptoRates.breakers.coingecko).toMatchObject({ state: 'open', consecutiveFailures: 5, calls: 5, failures: 5, openUntil: until });
  });

  it('while the breaker is open (5 min on the clock), then CoinGecko is never called', async () => {
    for (let step = 1; step <= 9; step++) {
      clock.advance(30_000);
      const res = await t.request.get('/api/crypto/rates?symbols=BTC').expect(200);
      expect(res.body.rates.BTC).toMatchObject({ tier: 'fallback', source: 'cryptocompare' });
      expect(res.body.breaker).toBe('open');
      await cryptoRatesOf(t).idle();
    }
    expect(cg.requests).toHaveLength(5);
    // The failing fallback provider was still tried, until its own breaker opened.
    expect(cc.requests.length).toBeGreaterThan(5);
    expect(cryptoLogs(t)).toContain('[CRYPTO-API] cryptocompare failure 5/5: HTTP 500');
    const health = await t.request.get('/api/health').expect(200);
    expect(health.body.status).toBe('degraded');
    expect(health.body.components.cryptoRates).toMatchObject({ status: 'down', breakers: { cryptocompare: { state: 'open' } } });
  });

  it('when the cooldown has passed, then exactly one probe goes out and its success closes the breaker', async () => {
    cg.answer(coinGeckoPrices());
    // 3 s before the end (the throttle then allows the next attempt right at the end).
    clock.set(openedAt + 5 * MIN - 3_000);
    const before = await t.request.get('/api/crypto/rates?symbols=BTC').expect(200);
    expect(before.body.breaker).toBe('open');
    await cryptoRatesOf(t).idle();
    expect(cg.requests).toHaveLength(5);

    clock.set(openedAt + 5 * MIN);
    const agent = supertest(await t.listen());
    const responses = await Promise.all(Array.from({ length: 20 }, () => agent.get('/api/crypto/rates?symbols=BTC')));
    for (const res of responses) {
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ rates: { BTC: { usd: price('BTC'), tier: 'fresh', ageSeconds: 0, source: 'coingecko' } }, breaker: 'closed' });
    }
    expect(cg.requests).toHaveLength(6);
    expect(cryptoLogs(t)).toEqual(
      expect.arrayContaining(['[CRYPTO-API] coingecko circuit half-open: sending one probe', '[CRYPTO-API] coingecko circuit closed: probe succeeded']),
    );
    const metrics = await t.request.get('/metrics').expect(200);
    expect(metrics.text).toContain('crypto_rates_breaker_state{provider="coingecko"} 0');
    expect(metrics.text).toContain('crypto_rates_breaker_state{provider="cryptocompare"} 1');
    expect(metrics.text).toContain('crypto_rates_upstream_failures_total{provider="coingecko"} 5');
  });
});

describe('every provider dead from the start', () => {
  const clock = new ManualClock();
  let cg: FakeProvider;
  let cc: FakeProvider;
  let cmc: FakeProvider;
  let t: TestApp;
  beforeAll(async () => {
    cg = await startFakeProvider(clock, failures.serverError);
    cc = await startFakeProvider(clock, failures.cryptoCompareError);
    cmc = await startFakeProvider(clock, failures.unauthorized);
    t = await startTestApp({
      env: {
        COINGECKO_API_URL: `${cg.url}/api/v3`,
        CRYPTOCOMPARE_API_URL: cc.url,
        COINMARKETCAP_API_URL: cmc.url,
        COINMARKETCAP_API_KEY: 'cmc-key-0000-1111',
      },
      deps: { clock, cryptoRates: { timeoutMs: 300 } },
    });
  });
  afterAll(async () => {
    await t.close();
    await Promise.all([cg.close(), cc.close(), cmc.close()]);
  });

  it('when 50 requests arrive, then all get 200 with hardcoded values, after one round of upstream calls', async () => {
    const agent = supertest(await t.listen());
    const responses = await Promise.all(Array.from({ length: 50 }, () => agent.get('/api/crypto/rates?symbols=BTC,USDC&vs=eur')));
    for (const res of responses) {
      expect(res.status).toBe(200);
      expect(res.body.rates.BTC).toEqual({ eur: expect.any(Number), tier: 'hardcoded', ageSeconds: null, source: 'hardcoded' });
      expect(res.body.rates.USDC).toMatchObject({ tier: 'hardcoded', source: 'hardcoded' });
      expect(res.body.rates.BTC.eur).toBeGreaterThan(0);
    }
    expect([cg.requests.length, cc.requests.length, cmc.requests.length]).toEqual([1, 1, 1]);
    expect(cmc.requests[0]!.path).toBe('/v2/cryptocurrency/quotes/latest');
    expect(cmc.requests[0]!.headers['x-cmc_pro_api_key']).toBe('cmc-key-0000-1111');
    expect(cryptoLogs(t)).toEqual(
      expect.arrayContaining([
        '[CRYPTO-API] coingecko failure 1/5: HTTP 500',
        '[CRYPTO-API] cryptocompare failure 1/5: error response: You are over your rate limit please upgrade your account!',
        '[CRYPTO-API] coinmarketcap failure 1/5: HTTP 401',
      ]),
    );
  });

  it('when requests keep coming, then upstream calls are at least 3 s apart on the clock', async () => {
    clock.advance(1_000);
    await t.request.get('/api/crypto/rates?symbols=BTC').expect(200);
    clock.advance(1_999);
    await t.request.get('/api/crypto/rates?symbols=BTC').expect(200);
    expect(cg.requests).toHaveLength(1);
    clock.advance(1);
    await t.request.get('/api/crypto/rates?symbols=BTC').expect(200);
    expect(cg.requests).toHaveLength(2);
    expect(cg.times[1]! - cg.times[0]!).toBe(3_000);
  });

  it('when a quote is asked, then 503 crypto_rates_unavailable (hardcoded rates are never quoted)', async () => {
    clock.advance(3_000);
    const res = await t.request.get('/api/crypto/quote?amountCents=2500&currency=usd&symbol=ETH').expect(503);
    expect(res.body.error).toMatchObject({ code: 'crypto_rates_unavailable', message: expect.stringContaining('ETH/USD') });
    await expect(cryptoRatesOf(t).quote({ amountCents: 2500, currency: 'usd', symbol: 'ETH' })).rejects.toMatchObject({
      status: 503,
      code: 'crypto_rates_unavailable',
    });
  });
});

describe('each way the primary can fail degrades to the next provider', () => {
  const clock = new ManualClock();
  let cg: FakeProvider;
  let cc: FakeProvider;
  let cmc: FakeProvider;
  let t: TestApp;
  beforeAll(async () => {
    cg = await startFakeProvider(clock, coinGeckoPrices());
    cc = await startFakeProvider(clock, cryptoComparePrices({ factor: 1.01 }));
    cmc = await startFakeProvider(clock, coinMarketCapPrices({ factor: 1.02 }));
    t = await startTestApp({
      env: { COINGECKO_API_URL: `${cg.url}/api/v3`, CRYPTOCOMPARE_API_URL: cc.url, COINMARKETCAP_API_URL: cmc.url, COINMARKETCAP_API_KEY: 'cmc-key' },
      deps: { clock, cryptoRates: { timeoutMs: 300 } },
    });
  });
  afterAll(async () => {
    await t.close();
    await Promise.all([cg.close(), cc.close(), cmc.close()]);
  });
  // Each case starts with nothing usable held (older than an hour), so the request waits for the refresh.
  beforeEach(() => clock.advance(61 * MIN));

  it('when CoinGecko leaves a coin out, then that coin comes from CryptoCompare and the rest from CoinGecko', async () => {
    cg.answer(coinGeckoPrices({ omit: ['AVAX'] }));
    const res = await t.request.get('/api/crypto/rates?symbols=BTC,AVAX').expect(200);
    expect(res.body.rates.BTC).toMatchObject({ usd: price('BTC'), tier: 'fresh', source: 'coingecko' });
    expect(res.body.rates.AVAX).toMatchObject({ usd: price('AVAX') * 1.01, tier: 'fresh', source: 'cryptocompare' });
    expect(cc.requests.at(-1)!.query.get('fsyms')).toBe('AVAX');
  });

  it.each([
    ['answers 500', failures.serverError, 'HTTP 500'],
    ['answers malformed JSON', failures.malformed, 'malformed JSON'],
    ['never answers', failures.hang, 'timed out'],
    ['answers without any requested coin', () => ({ body: {} }), 'answer held none of the requested prices'],
  ])('when CoinGecko %s, then 200 with fresh CryptoCompare values', async (_what, handler, reason) => {
    cg.answer(handler);
    const res = await t.request.get('/api/crypto/rates?symbols=ETH&vs=gbp').expect(200);
    expect(res.body.rates.ETH).toEqual({ gbp: price('ETH', 'gbp') * 1.01, tier: 'fresh', ageSeconds: 0, source: 'cryptocompare' });
    expect(cryptoLogs(t).at(-1)).toMatch(new RegExp(`^\\[CRYPTO-API\\] coingecko failure \\d/5: ${reason}$`));
  });

  it('when CoinGecko and CryptoCompare both fail, then keyed CoinMarketCap answers', async () => {
    cg.answer(failures.rateLimited);
    cc.answer(failures.serverError);
    const res = await t.request.get('/api/crypto/quote?amountCents=100000&currency=usd&symbol=SOL').expect(200);
    expect(res.body).toMatchObject({ source: 'coinmarketcap', tier: 'fresh', rate: price('SOL') * 1.02 });
    const call = cmc.requests.at(-1)!;
    expect(call.query.get('symbol')).toBe('BTC,ETH,USDT,USDC,SOL,MATIC,DOT,AVAX');
    expect(call.query.get('convert')).toBe('USD,EUR,GBP');
    expect(call.headers['x-cmc_pro_api_key']).toBe('cmc-key');
  });
});
