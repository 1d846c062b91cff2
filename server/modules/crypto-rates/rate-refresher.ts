import { CRYPTO_SYMBOLS, type CryptoSymbol, VS_CURRENCIES, type VsCurrency } from '../../../shared/contracts';
import type { Db } from '../../db';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import { withDeadline } from '../../lib/deadline';
import { pairKey } from './coins';
import { loadStoredRates, type StoredRate, saveRates } from './crypto-rates.repository';
import type { CryptoRateMetrics } from './crypto-rates.metrics';
import { createProviderBreaker, type ProviderBreaker } from './provider-breaker';
import { type RateProvider, UpstreamError } from './providers';

/** At most one refresh (and so one round of upstream calls) per this many ms, across all requests. */
export const THROTTLE_MS = 3_000;

export interface HeldRate {
  price: number;
  source: string;
  /** Epoch ms (injected clock) when the provider answered. */
  fetchedAt: number;
}

export interface ProviderLink {
  provider: RateProvider;
  breaker: ProviderBreaker;
  calls: number;
  failures: number;
}

interface Pair {
  symbol: CryptoSymbol;
  vs: VsCurrency;
}

const ALL_PAIRS: Pair[] = CRYPTO_SYMBOLS.flatMap((symbol) => VS_CURRENCIES.map((vs) => ({ symbol, vs })));

export interface RefresherDeps {
  clock: Clock;
  logger: Logger;
  db: Db;
  providers: RateProvider[];
  timeoutMs: number;
  metrics: CryptoRateMetrics;
}

/**
 * Holds the last good value per pair and refreshes all of them at once: single-flight (every
 * caller shares the refresh in progress), throttled to one per THROTTLE_MS on the clock, walking
 * the provider chain until every pair is answered. Never rejects.
 */
export function createRateRefresher(deps: RefresherDeps) {
  const { clock, logger, db, timeoutMs, metrics } = deps;
  const held = new Map<string, HeldRate>();
  const chain: ProviderLink[] = deps.providers.map((provider) => {
    const link: ProviderLink = {
      provider,
      calls: 0,
      failures: 0,
      breaker: createProviderBreaker(provider.name, {
        clock,
        logger,
        onFailure: () => {
          link.failures++;
          metrics.upstreamFailure(provider.name);
        },
      }),
    };
    return link;
  });
  const stopping = new AbortController();
  let inFlight: Promise<void> | undefined;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let lastOutcome: { at: number; ok: boolean } | undefined;
  let refreshes = 0;

  function hold(key: string, rate: HeldRate) {
    const current = held.get(key);
    if (!current || current.fetchedAt <= rate.fetchedAt) held.set(key, rate);
  }

  async function askProvider(link: ProviderLink, missing: Map<string, Pair>) {
    const symbols = [...new Set([...missing.values()].map((p) => p.symbol))];
    const currencies = [...new Set([...missing.values()].map((p) => p.vs))];
    return link.breaker.call((signal) =>
      // The deadline settles the call even if a provider ignores the signal; its error is a TimeoutError ("timed out").
      withDeadline(
        timeoutMs,
        async (deadline) => {
          link.calls++;
          metrics.upstreamCall(link.provider.name);
          const prices = await link.provider.fetchPrices(symbols, currencies, deadline);
          // An answer without a single price we asked for is a failure (counts towards the breaker).
          if (!prices.some((p) => missing.has(pairKey(p.symbol, p.vs))))
            throw new UpstreamError('answer held none of the requested prices');
          return prices;
        },
        AbortSignal.any([signal, stopping.signal]),
      ),
    );
  }

  async function refresh(): Promise<void> {
    refreshes++;
    const missing = new Map(ALL_PAIRS.map((p) => [pairKey(p.symbol, p.vs), p]));
    const fetched: StoredRate[] = [];
    for (const link of chain) {
      if (missing.size === 0 || stopping.signal.aborted) break;
      const outcome = await askProvider(link, missing);
      if (!outcome.ok) continue;
      const at = clock.now();
      for (const p of outcome.value) {
        const key = pairKey(p.symbol, p.vs);
        if (!missing.delete(key)) continue;
        hold(key, { price: p.price, source: link.provider.name, fetchedAt: at });
        fetched.push({ symbol: p.symbol, vsCurrency: p.vs, price: p.price, source: link.provider.name, fetchedAt: new Date(at) });
      }
      if (missing.size > 0)
        logger.warn(`[CRYPTO-API] ${link.provider.name} answered without ${[...missing.keys()].join(', ')}; asking the next provider`);
    }
    lastOutcome = { at: clock.now(), ok: fetched.length > 0 };
    if (fetched.length === 0) {
      logger.warn('[CRYPTO-API] no provider answered; serving held values by age');
      return;
    }
    await saveRates(db, fetched).catch((error) => {
      logger.error(`[CRYPTO-API] could not persist rates: ${(error as Error).message}`);
    });
  }

  return {
    held,
    chain,
    /**
     * Starts a refresh unless one is running (then shares it) or the last began less than
     * THROTTLE_MS ago on the clock (then returns undefined: callers serve what they hold).
     */
    trigger(): Promise<void> | undefined {
      if (inFlight) return inFlight;
      if (stopping.signal.aborted || clock.now() - lastAttemptAt < THROTTLE_MS) return undefined;
      lastAttemptAt = clock.now();
      inFlight = refresh()
        .catch((error) => {
          logger.error(`[CRYPTO-API] refresh failed: ${(error as Error).message}`);
        })
        .finally(() => {
          inFlight = undefined;
        });
      return inFlight;
    },
    /** Resolves when no refresh is running (shutdown, tests, benchmarks). */
    idle: (): Promise<void> => inFlight ?? Promise.resolve(),
    /** Loads the last good values persisted by any instance (a restart during an outage serves fallback). */
    async loadStored(): Promise<void> {
      for (const row of await loadStoredRates(db)) {
        const symbol = row.symbol as CryptoSymbol;
        const vs = row.vsCurrency as VsCurrency;
        if (!CRYPTO_SYMBOLS.includes(symbol) || !VS_CURRENCIES.includes(vs)) continue;
        hold(pairKey(symbol, vs), { price: row.price, source: row.source, fetchedAt: row.fetchedAt.getTime() });
      }
    },
    stats: () => ({ refreshes, lastOutcome }),
    async stop(): Promise<void> {
      stopping.abort();
      await inFlight;
    },
  };
}

export type RateRefresher = ReturnType<typeof createRateRefresher>;
