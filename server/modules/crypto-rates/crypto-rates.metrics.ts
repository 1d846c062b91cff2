import { Counter, Gauge, type Registry } from 'prom-client';
import type { BreakerState, RateTier } from '../../../shared/contracts';

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, open: 1, half_open: 2 };

export interface CryptoRateMetrics {
  upstreamCall(provider: string): void;
  upstreamFailure(provider: string): void;
  served(tier: RateTier): void;
}

/** Prometheus view of the rate service; breaker states are read at scrape time. */
export function registerCryptoRateMetrics(registry: Registry, breakerStates: () => Record<string, BreakerState>): CryptoRateMetrics {
  const calls = new Counter({
    name: 'crypto_rates_upstream_calls_total',
    help: 'HTTP calls made to crypto price providers',
    labelNames: ['provider'] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: 'crypto_rates_upstream_failures_total',
    help: 'Failed calls to crypto price providers (timeouts, 429, 5xx, unusable answers)',
    labelNames: ['provider'] as const,
    registers: [registry],
  });
  const served = new Counter({
    name: 'crypto_rates_served_total',
    help: 'Rate values served, by tier',
    labelNames: ['tier'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'crypto_rates_breaker_state',
    help: 'Circuit breaker state per provider (0 closed, 1 open, 2 half-open)',
    labelNames: ['provider'] as const,
    registers: [registry],
    collect() {
      for (const [provider, state] of Object.entries(breakerStates())) this.set({ provider }, BREAKER_VALUE[state]);
    },
  });
  return {
    upstreamCall: (provider) => calls.inc({ provider }),
    upstreamFailure: (provider) => failures.inc({ provider }),
    served: (tier) => served.inc({ tier }),
  };
}
