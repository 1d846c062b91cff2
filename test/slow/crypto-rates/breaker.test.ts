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
import type { UpstreamHandler } from '../../support/fake-upstream';

/*
 * Every test starts its own app, clock and fake providers (closed after it): no test relies on
 * what another left behind or on the order they run in. A test that needs an earlier stage
 * (breaker already open, cooldown walked through) replays it with the helpers below. Only the
 * injected clock moves breakers, throttles and tiers.
 */
const MIN = 60_000;
/**
 * Real-time limit per upstream call. Nothing here answers slowly except `failures.hang`, so it
 * is generous: on a loaded machine a slow local answer must not turn into a failure.
 */
const UPSTREAM_TIMEOUT_MS = 5_000;
/** Only for the provider that never answers: the timeout has to fire for the test to go on. */
const HANG_TIMEOUT_MS = 1_500;

interface Scenario {
  clock: ManualClock;
  t: TestApp;
  cg: FakeProvider;
  cc: FakeProvider;
  /** Only when the scenario gives CoinMarketCap an answer (and a key: it joins the chain only when keyed). */
  cmc?: FakeProvider;
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function startScenario(
  answers: { cg: UpstreamHandler; cc: UpstreamHandler; cmc?: UpstreamHandler },
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Scenario> {
  const clock = new ManualClock();
  const cg = await startFakeProvider(clock, answers.cg);
  const cc = await startFakeProvider(clock, answers.cc);
  const cmc = answers.cmc ? await startFakeProvider(clock, answers.cmc) : undefined;
  closers.push(() => Promise.all([cg.close(), cc.close(), cmc?.close()]).then(() => undefined));
  const t = await startTestApp({
    env: {
      COINGECKO_API_URL: `${cg.url}/api/v3`,
      CRYPTOCOMPARE_API_URL: cc.url,
      ...(cmc ? { COINMARKETCAP_API_URL: cmc.url } : {}),
      ...options.env,
    },
    deps: { clock, cryptoRates: { timeoutMs: options.timeoutMs ?? UPSTREAM_TIMEOUT_MS } },
  });
  // The app closes before the providers it talks to.
  closers.unshift(() => t.close());
  return { clock, t, cg, cc, cmc };
}

describe('primary rate-limited (429) five times', () => {
  const startRateLimitedPrimary = () =>
    startScenario({ cg: failures.rateLimited, cc: cryptoComparePrices() }, { env: { CRYPTOCOMPARE_API_KEY: 'cc-key-abcdef123456' } });

  /** Rounds 1–4: each 16 minutes after the last, so the held value is past stale and the request waits for the refresh. */
  async function fourRateLimitedRounds(s: Scenario, check: (round: number, body: unknown) => void = () => undefined) {
    for (let round = 1; round <= 4; round++) {
      if (round > 1) s.clock.advance(16 * MIN);
      const res = await s.t.request.get('/api/crypto/rates?symbols=BTC').expect(200);
      check(round, res.body);
    }
  }

  /** Round 5 (CryptoCompare failing too) opens the CoinGecko breaker; returns when it opened and the answer. */
  async function fifthFailureOpensBreaker(s: Scenario) {
    s.cc.answer(failures.serverError);
    s.clock.advance(16 * MIN);
    const openedAt = s.clock.now();
    const res = await s.t.request.get('/api/crypto/rates?symbols=BTC').expect(200);
    return { openedAt, body: res.body };
  }

  /** Nine requests 30 s apart on the clock while the breaker is open; each waits for its refresh. */
  async function walkThroughCooldown(s: Scenario) {
    const bodies: Array<{ rates: { BTC: unknown }; breaker: string }> = [];
    for (let step = 1; step <= 9; step++) {
      s.clock.advance(30_000);
      bodies.push((await s.t.request.get('/api/crypto/rates?symbols=BTC').expect(200)).body);
      await cryptoRatesOf(s.t).idle();
    }
    return bodies;
  }

  it('when CoinGecko answers 429, then CryptoCompare serves fresh values and each failure is logged n/5', async () => {
    const s = await startRateLimitedPrimary();
    await fourRateLimitedRounds(s, (round, body) => {
      expect(body).toEqual({
        rates: { BTC: { usd: price('BTC'), tier: 'fresh', ageSeconds: 0, source: 'cryptocompare' } },
        breaker: 'closed',
      });
      expect(s.cg.requests).toHaveLength(round);
      expect(cryptoLogs(s.t)).toContain(`[CRYPTO-API] coingecko failure ${round}/5: HTTP 429`);
    });
    const call = s.cc.requests[0]!;
    expect(call.path).toBe('/data/pricemulti');
    expect(call.query.get('fsyms')).toBe('BTC,ETH,USDT,USDC,SOL,MATIC,DOT,AVAX');
    expect(call.query.get('tsyms')).toBe('USD,EUR,GBP');
    expect(call.headers.authorization).toBe('Apikey cc-key-abcdef123456');
  });

  it('when the fifth 429 arrives, then the breaker opens with its cooldown end logged', async () => {
    const s = await startRateLimitedPrimary();
    await fourRateLimitedRounds(s);
    const { openedAt, body } = await fifthFailureOpensBreaker(s);
    // Both providers failed: the 16-minute-old CryptoCompare value is served as fallback.
    expect(body).toEqual({
      rates: { BTC: { usd: price('BTC'), tier: 'fallback', ageSeconds: 960, source: 'cryptocompare' } },
      breaker: 'open',
    });
    const logs = cryptoLogs(s.t);
    expect(logs).toContain('[CRYPTO-API] coingecko failure 5/5: HTTP 429');
    const until = new Date(openedAt + 5 * MIN).toISOString();
    expect(logs).toContain(`[CRYPTO-API] coingecko circuit open until ${until} (no calls during the 5 min cooldown)`);
    const health = await s.t.request.get('/api/health').expect(200);
    expect(health.body.components.cryptoRates.breakers.coingecko).toMatchObject({
      state: 'open',
      consecutiveFailures: 5,
      calls: 5,
      failures: 5,
      openUntil: until,
    });
  });

  it('while the breaker is open (5 min on the clock), then CoinGecko is never called', async () => {
    const s = await startRateLimitedPrimary();
    await fourRateLimitedRounds(s);
    await fifthFailureOpensBreaker(s);
    for (const body of await walkThroughCooldown(s)) {
      expect(body.rates.BTC).toMatchObject({ tier: 'fallback', source: 'cryptocompare' });
      expect(body.breaker).toBe('open');
    }
    expect(s.cg.requests).toHaveLength(5);
    // The failing fallback provider was still tried, until its own breaker opened.
    expect(s.cc.requests.length).toBeGreaterThan(5);
    expect(cryptoLogs(s.t)).toContain('[CRYPTO-API] cryptocompare failure 5/5: HTTP 500');
    const health = await s.t.request.get('/api/health').expect(200);
    expect(health.body.status).toBe('degraded');
    expect(health.body.components.cryptoRates).toMatchObject({ status: 'down', breakers: { cryptocompare: { state: 'open' } } });
  });

  it('when the cooldown has passed, then exactly one probe goes out and its success closes the breaker', async () => {
    const s = await startRateLimitedPrimary();
    const { clock, t, cg } = s;
    await fourRateLimitedRounds(s);
    const { openedAt } = await fifthFailureOpensBreaker(s);
    await walkThroughCooldown(s);

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
      expect(res.body).toEqual({
        rates: { BTC: { usd: price('BTC'), tier: 'fresh', ageSeconds: 0, source: 'coingecko' } },
        breaker: 'closed',
      });
    }
    expect(cg.requests).toHaveLength(6);
    expect(cryptoLogs(t)).toEqual(
      expect.arrayContaining([
        '[CRYPTO-API] coingecko circuit half-open: sending one probe',
        '[CRYPTO-API] coingecko circuit closed: probe succeeded',
      ]),
    );
    const metrics = await t.request.get('/metrics').expect(200);
    expect(metrics.text).toContain('crypto_rates_breaker_state{provider="coingecko"} 0');
    expect(metrics.text).toContain('crypto_rates_breaker_state{provider="cryptocompare"} 1');
    expect(metrics.text).toContain('crypto_rates_upstream_failures_total{provider="coingecko"} 5');
  });
});

describe('every provider dead from the start', () => {
  const startAllDead = () =>
    startScenario(
      { cg: failures.serverError, cc: failures.cryptoCompareError, cmc: failures.unauthorized },
      { env: { COINMARKETCAP_API_KEY: 'cmc-key-0000-1111' } },
    );

  it('when 50 requests arrive, then all get 200 with hardcoded values, after one round of upstream calls', async () => {
    const { t, cg, cc, cmc } = await startAllDead();
    if (!cmc) throw new Error('scenario without CoinMarketCap');
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
    const { clock, t, cg } = await startAllDead();
    // The first round of upstream calls.
    await t.request.get('/api/crypto/rates?symbols=BTC').expect(200);
    expect(cg.requests).toHaveLength(1);
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
    const { t } = await startAllDead();
    const res = await t.request.get('/api/crypto/quote?amountCents=2500&currency=usd&symbol=ETH').expect(503);
    expect(res.body.error).toMatchObject({ code: 'crypto_rates_unavailable', message: expect.stringContaining('ETH/USD') });
    await expect(cryptoRatesOf(t).quote({ amountCents: 2500, currency: 'usd', symbol: 'ETH' })).rejects.toMatchObject({
      status: 503,
      code: 'crypto_rates_unavailable',
    });
  });
});

describe('each way the primary can fail degrades to the next provider', () => {
  // A fresh app holds nothing usable, so every request waits for the refresh.
  const startThreeProviders = (cg: UpstreamHandler, options: { timeoutMs?: number } = {}) =>
    startScenario(
      { cg, cc: cryptoComparePrices({ factor: 1.01 }), cmc: coinMarketCapPrices({ factor: 1.02 }) },
      { env: { COINMARKETCAP_API_KEY: 'cmc-key' }, ...options },
    );

  it('when CoinGecko leaves a coin out, then that coin comes from CryptoCompare and the rest from CoinGecko', async () => {
    const { t, cc } = await startThreeProviders(coinGeckoPrices({ omit: ['AVAX'] }));
    const res = await t.request.get('/api/crypto/rates?symbols=BTC,AVAX').expect(200);
    expect(res.body.rates.BTC).toMatchObject({ usd: price('BTC'), tier: 'fresh', source: 'coingecko' });
    expect(res.body.rates.AVAX).toMatchObject({ usd: price('AVAX') * 1.01, tier: 'fresh', source: 'cryptocompare' });
    expect(cc.requests.at(-1)!.query.get('fsyms')).toBe('AVAX');
  });

  it.each<[string, UpstreamHandler, string, number]>([
    ['answers 500', failures.serverError, 'HTTP 500', UPSTREAM_TIMEOUT_MS],
    ['answers malformed JSON', failures.malformed, 'malformed JSON', UPSTREAM_TIMEOUT_MS],
    ['never answers', failures.hang, 'timed out', HANG_TIMEOUT_MS],
    ['answers without any requested coin', () => ({ body: {} }), 'answer held none of the requested prices', UPSTREAM_TIMEOUT_MS],
  ])('when CoinGecko %s, then 200 with fresh CryptoCompare values', async (_what, handler, reason, timeoutMs) => {
    const { t } = await startThreeProviders(handler, { timeoutMs });
    const started = Date.now();
    const res = await t.request.get('/api/crypto/rates?symbols=ETH&vs=gbp').expect(200);
    // A hung primary costs at most its deadline (plus slack for a loaded machine), never the request.
    expect(Date.now() - started).toBeLessThan(timeoutMs + 2_000);
    expect(res.body.rates.ETH).toEqual({ gbp: price('ETH', 'gbp') * 1.01, tier: 'fresh', ageSeconds: 0, source: 'cryptocompare' });
    expect(cryptoLogs(t).at(-1)).toMatch(new RegExp(`^\\[CRYPTO-API\\] coingecko failure \\d/5: ${reason}$`));
  });

  it('when CoinGecko and CryptoCompare both fail, then keyed CoinMarketCap answers', async () => {
    const { t, cc, cmc } = await startThreeProviders(failures.rateLimited);
    if (!cmc) throw new Error('scenario without CoinMarketCap');
    cc.answer(failures.serverError);
    const res = await t.request.get('/api/crypto/quote?amountCents=100000&currency=usd&symbol=SOL').expect(200);
    expect(res.body).toMatchObject({ source: 'coinmarketcap', tier: 'fresh', rate: price('SOL') * 1.02 });
    const call = cmc.requests.at(-1)!;
    expect(call.query.get('symbol')).toBe('BTC,ETH,USDT,USDC,SOL,MATIC,DOT,AVAX');
    expect(call.query.get('convert')).toBe('USD,EUR,GBP');
    expect(call.headers['x-cmc_pro_api_key']).toBe('cmc-key');
  });
});

describe('every provider accepts the call and never answers', () => {
  it('when the deadline comes from CRYPTO_PROVIDER_TIMEOUT_MS, then each call gives up in time and the request falls to hardcoded values', async () => {
    const clock = new ManualClock();
    const cg = await startFakeProvider(clock, failures.hang);
    const cc = await startFakeProvider(clock, failures.hang);
    closers.push(() => Promise.all([cg.close(), cc.close()]).then(() => undefined));
    const t = await startTestApp({
      env: { COINGECKO_API_URL: `${cg.url}/api/v3`, CRYPTOCOMPARE_API_URL: cc.url, CRYPTO_PROVIDER_TIMEOUT_MS: '800' },
      deps: { clock },
    });
    closers.unshift(() => t.close());
    const started = Date.now();
    const res = await t.request.get('/api/crypto/rates?symbols=BTC').expect(200);
    const elapsed = Date.now() - started;
    expect(res.body.rates.BTC).toMatchObject({ tier: 'hardcoded', source: 'hardcoded' });
    // Two providers asked one after the other, each cut off at 800 ms.
    expect(elapsed).toBeGreaterThanOrEqual(2 * 800 - 50);
    expect(elapsed).toBeLessThan(2 * 800 + 2_000);
    expect(cryptoLogs(t)).toEqual(
      expect.arrayContaining(['[CRYPTO-API] coingecko failure 1/5: timed out', '[CRYPTO-API] cryptocompare failure 1/5: timed out']),
    );
  });
});
