import Stripe from 'stripe';
import type { Config } from '../../lib/config';

/**
 * The real Stripe SDK; `STRIPE_API_URL` points it at another server speaking Stripe's API
 * (tests, stripe-mock). The SDK's own retries are off: our callers are idempotent by key and
 * decide themselves whether to retry.
 */
export function createStripeClient(config: Config): Stripe | undefined {
  if (!config.STRIPE_SECRET_KEY) return undefined;
  const target = config.STRIPE_API_URL ? new URL(config.STRIPE_API_URL) : undefined;
  return new Stripe(config.STRIPE_SECRET_KEY, {
    maxNetworkRetries: 0,
    telemetry: false,
    // Per request (connect to last byte): a hung Stripe fails the call, which answers 503, instead of holding it.
    timeout: config.STRIPE_TIMEOUT_MS,
    ...(target
      ? {
          host: target.hostname,
          port: Number(target.port || (target.protocol === 'https:' ? 443 : 80)),
          protocol: target.protocol === 'https:' ? 'https' : 'http',
        }
      : {}),
  });
}

export type { Stripe };
