import type Stripe from 'stripe';
import type { UnitOfWork } from '../../db';
import type { AppModule, ModuleContext } from '../../lib/module';
import type { PaymentUpdate } from '../orders';
import { paymentsRoutes } from './payments.routes';
import type { PaymentsDeps } from './payments.service';
import { createStripeClient } from './stripe-client';
import { createStripeProvider } from './stripe-provider';

export interface PaymentsOptions {
  /** The orders module's verdict handler (`orders.applyPaymentUpdate`). */
  applyUpdate(unit: UnitOfWork, update: PaymentUpdate): Promise<string>;
  /** A Stripe client to use instead of one built from the config. */
  stripe?: Stripe;
}

export function createPaymentsModule(context: ModuleContext, options: PaymentsOptions): AppModule {
  const { config, logger, database } = context;
  // Off: no client at all, even when a key is set, so nothing can reach Stripe.
  const stripe = config.STRIPE_ENABLED ? (options.stripe ?? createStripeClient(config)) : undefined;
  const deps: PaymentsDeps = {
    enabled: config.STRIPE_ENABLED,
    database,
    logger,
    provider: stripe ? createStripeProvider(stripe, config.STRIPE_WEBHOOK_SECRET, { timeoutMs: config.STRIPE_TIMEOUT_MS }) : undefined,
    publishableKey: config.STRIPE_PUBLISHABLE_KEY,
    applyUpdate: options.applyUpdate,
  };
  return {
    name: 'payments',
    routes: paymentsRoutes(deps),
    health: () => ({
      status: 'ok',
      mode: config.PAYMENTS_MODE,
      card: config.STRIPE_ENABLED ? 'enabled' : 'disabled',
      provider: !config.STRIPE_ENABLED ? 'disabled' : (deps.provider?.name ?? 'not_configured'),
    }),
  };
}
