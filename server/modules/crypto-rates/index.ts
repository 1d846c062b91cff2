import type { AppModule, ModuleContext } from '../../lib/module';
import { registerCryptoRateMetrics } from './crypto-rates.metrics';
import { cryptoRatesRoutes } from './crypto-rates.routes';
import { createRateService, type Quote, type QuoteRequest } from './crypto-rates.service';
import { providersFromConfig, type RateProvider } from './providers';
import { createRateRefresher } from './rate-refresher';

export type { Quote, QuoteRequest } from './crypto-rates.service';
export type { RateProvider } from './providers';

export interface CryptoRatesOptions {
  /** Per-call upstream timeout (real time). Default CRYPTO_PROVIDER_TIMEOUT_MS (5 s). */
  timeoutMs?: number;
  /** Longest a request waits on a refresh when it holds nothing better than fallback. Default 8 s. */
  waitMs?: number;
  /** Replaces the chain built from config (CoinGecko, CryptoCompare, CoinMarketCap when keyed). */
  providers?: RateProvider[];
}

export interface CryptoRatesModule extends AppModule {
  /** Prices an order in a coin; throws AppError 503 `crypto_rates_unavailable` when only hardcoded rates are left. */
  quote(request: QuoteRequest): Promise<Quote>;
  /** Resolves when no upstream refresh is in progress. */
  idle(): Promise<void>;
}

export function createCryptoRatesModule(context: ModuleContext, options: CryptoRatesOptions = {}): CryptoRatesModule {
  const { config, logger, database, clock } = context;
  // Breaker states are read at scrape time, after `rates` exists.
  const metrics = registerCryptoRateMetrics(context.metrics, () => rates.breakerStates());
  const refresher = createRateRefresher({
    clock,
    logger,
    db: database.db,
    providers: options.providers ?? providersFromConfig(config),
    timeoutMs: options.timeoutMs ?? config.CRYPTO_PROVIDER_TIMEOUT_MS,
    metrics,
  });
  const rates = createRateService({ clock, logger, refresher, metrics, waitMs: options.waitMs ?? 8_000 });

  return {
    name: 'cryptoRates',
    routes: cryptoRatesRoutes(rates),
    // No upstream call at start: the first request (or a stale value) triggers one.
    start: () => rates.loadStored(),
    health: () => rates.health(),
    quote: (request) => rates.quote(request),
    idle: () => refresher.idle(),
    stop: () => refresher.stop(),
  };
}
