import {
  type BreakerState,
  type CryptoSymbol,
  CRYPTO_SYMBOLS,
  RATE_TIERS,
  type QuoteResponse,
  type RatesResponse,
  type RateTier,
  type RateValue,
  VS_CURRENCIES,
  type VsCurrency,
} from '../../../shared/contracts';
import type { Clock } from '../../lib/clock';
import { badRequest, serviceUnavailable } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { ComponentHealth } from '../../lib/module';
import { coinAmount } from './coin-amount';
import { hardcodedPrice, pairKey } from './coins';
import type { CryptoRateMetrics } from './crypto-rates.metrics';
import type { RateRefresher } from './rate-refresher';
import { tierForAge, worstTier } from './rate-tiers';

export const QUOTE_TTL_MS = 15 * 60_000;
/** A failed load of the persisted values is retried at most this often. */
const RELOAD_AFTER_MS = 30_000;

/** Checked at run time (callers such as orders pass a product's currency as stored). */
export interface QuoteRequest {
  amountCents: number;
  currency: string;
  symbol: string;
}

const isSymbol = (s: string): s is CryptoSymbol => (CRYPTO_SYMBOLS as readonly string[]).includes(s);
const isVsCurrency = (c: string): c is VsCurrency => (VS_CURRENCIES as readonly string[]).includes(c);
export type Quote = QuoteResponse;

interface ResolvedRate {
  price: number;
  tier: RateTier;
  ageSeconds: number | null;
  source: string;
}

export interface RateServiceDeps {
  clock: Clock;
  logger: Logger;
  refresher: RateRefresher;
  metrics: CryptoRateMetrics;
  /** Longest a request waits (real time) on a refresh when it holds nothing better than fallback. */
  waitMs: number;
}

function waitAtMost(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createRateService(deps: RateServiceDeps) {
  const { clock, logger, refresher, metrics } = deps;
  const served: Record<RateTier, number> = { fresh: 0, stale: 0, fallback: 0, hardcoded: 0 };
  let loaded = false;
  let lastLoadAttempt = Number.NEGATIVE_INFINITY;
  let loading: Promise<void> | undefined;

  function resolve(symbol: CryptoSymbol, vs: VsCurrency, now: number): ResolvedRate {
    const held = refresher.held.get(pairKey(symbol, vs));
    if (held) {
      const age = Math.max(0, now - held.fetchedAt);
      const tier = tierForAge(age);
      if (tier !== 'hardcoded') return { price: held.price, tier, ageSeconds: Math.floor(age / 1000), source: held.source };
    }
    return { price: hardcodedPrice(symbol, vs), tier: 'hardcoded', ageSeconds: null, source: 'hardcoded' };
  }

  function loadStored(): Promise<void> {
    loading ??= (async () => {
      lastLoadAttempt = clock.now();
      try {
        await refresher.loadStored();
        loaded = true;
      } catch (error) {
        logger.warn(`[CRYPTO-API] could not load persisted rates: ${(error as Error).message}`);
      } finally {
        loading = undefined;
      }
    })();
    return loading;
  }

  /**
   * Fresh: served as is. Stale: served now, refreshed in the background. Older or missing:
   * wait for the shared refresh (never for the throttle), then serve the best value held.
   */
  async function ensureServable(pairs: Array<{ symbol: CryptoSymbol; vs: VsCurrency }>): Promise<void> {
    const now = clock.now();
    const worst = worstTier(pairs.map((p) => resolve(p.symbol, p.vs, now).tier));
    if (worst === 'fresh') return;
    if (!loaded && now - lastLoadAttempt >= RELOAD_AFTER_MS) await loadStored();
    const refresh = refresher.trigger();
    if (refresh && worst !== 'stale') await waitAtMost(refresh, deps.waitMs);
  }

  function count(tier: RateTier) {
    served[tier]++;
    metrics.served(tier);
  }

  const primaryBreaker = (): BreakerState => refresher.chain[0]?.breaker.state() ?? 'open';

  return {
    loadStored,

    async rates(symbols: readonly CryptoSymbol[], vs: VsCurrency): Promise<RatesResponse> {
      await ensureServable(symbols.map((symbol) => ({ symbol, vs })));
      const now = clock.now();
      const rates: RatesResponse['rates'] = {};
      for (const symbol of symbols) {
        const r = resolve(symbol, vs, now);
        count(r.tier);
        rates[symbol] = { [vs]: r.price, tier: r.tier, ageSeconds: r.ageSeconds, source: r.source } as RateValue;
      }
      return { rates, breaker: primaryBreaker() };
    },

    /** Prices `amountCents` in the coin; refuses (503) when only the built-in table is left. */
    async quote(request: QuoteRequest): Promise<Quote> {
      const { amountCents, currency, symbol } = request;
      if (!Number.isSafeInteger(amountCents) || amountCents < 1)
        throw badRequest('invalid_amount', 'amountCents must be a positive whole number');
      if (!isSymbol(symbol)) throw badRequest('unsupported_symbol', `Unsupported coin ${String(symbol)}`);
      if (!isVsCurrency(currency)) throw badRequest('unsupported_currency', `Unsupported currency ${String(currency)}`);
      await ensureServable([{ symbol, vs: currency }]);
      const now = clock.now();
      const r = resolve(symbol, currency, now);
      count(r.tier);
      if (r.tier === 'hardcoded') {
        throw serviceUnavailable(
          'crypto_rates_unavailable',
          `No ${symbol}/${currency.toUpperCase()} rate from the last hour; try again shortly`,
          30,
        );
      }
      return {
        symbol,
        currency,
        amountCents,
        amount: coinAmount(amountCents, r.price),
        rate: r.price,
        tier: r.tier,
        source: r.source,
        ageSeconds: r.ageSeconds,
        expiresAt: new Date(now + QUOTE_TTL_MS).toISOString(),
      };
    },

    breakerStates(): Record<string, BreakerState> {
      return Object.fromEntries(refresher.chain.map((l) => [l.provider.name, l.breaker.state()]));
    },

    health(): ComponentHealth {
      const now = clock.now();
      const held = Object.fromEntries(RATE_TIERS.map((t) => [t, 0])) as Record<RateTier, number>;
      for (const symbol of CRYPTO_SYMBOLS) for (const vs of VS_CURRENCIES) held[resolve(symbol, vs, now).tier]++;
      const breakers = Object.fromEntries(
        refresher.chain.map((l) => {
          const until = l.breaker.openUntil();
          const info = {
            state: l.breaker.state(),
            consecutiveFailures: l.breaker.consecutiveFailures(),
            calls: l.calls,
            failures: l.failures,
          };
          return [l.provider.name, until === undefined ? info : { ...info, openUntil: new Date(until).toISOString() }];
        }),
      );
      const open = refresher.chain.filter((l) => l.breaker.state() !== 'closed').length;
      const { refreshes, lastOutcome } = refresher.stats();
      return {
        status: open === 0 ? 'ok' : open === refresher.chain.length ? 'down' : 'degraded',
        breaker: primaryBreaker(),
        breakers,
        upstreamCalls: refresher.chain.reduce((n, l) => n + l.calls, 0),
        failures: refresher.chain.reduce((n, l) => n + l.failures, 0),
        refreshes,
        lastRefresh: lastOutcome ? { at: new Date(lastOutcome.at).toISOString(), ok: lastOutcome.ok } : null,
        tiers: { held, served: { ...served } },
      };
    },
  };
}

export type RateService = ReturnType<typeof createRateService>;
