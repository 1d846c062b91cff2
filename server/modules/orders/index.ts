import type Stripe from 'stripe';
import type { UnitOfWork } from '../../db';
import type { AppModule, ModuleContext } from '../../lib/module';
import type { OutgoingEmail } from '../email';
import { ordersRoutes } from './orders.routes';
import { expireOverdue, type Notify, type OrdersDeps, type QuoteCrypto } from './orders.service';
import type { PaymentsDeps } from './payments.service';
import { createStripeClient } from './stripe-client';

export type { CryptoQuote, Notify, QuoteCrypto } from './orders.service';

export interface OrdersOptions {
  enqueueEmail(unit: UnitOfWork, mail: OutgoingEmail): Promise<void>;
  onStockChanged(productIds: string[]): void;
  quoteCrypto?: QuoteCrypto;
  notify?: Notify;
  /** A Stripe client to use instead of one built from the config. */
  stripe?: Stripe;
}

export interface OrdersModule extends AppModule {
  /** Expires overdue unpaid orders now (the sweep timer calls the same). */
  sweepExpiredOrders(): Promise<number>;
}

export function createOrdersModule(context: ModuleContext, options: OrdersOptions): OrdersModule {
  const { config, logger, database, clock } = context;
  const deps: OrdersDeps = {
    db: database.db,
    clock,
    logger,
    expiryMinutes: config.ORDER_EXPIRY_MINUTES,
    quoteCrypto: options.quoteCrypto,
    onStockChanged: options.onStockChanged,
  };
  const payments: PaymentsDeps = {
    database,
    logger,
    stripe: options.stripe ?? createStripeClient(config),
    publishableKey: config.STRIPE_PUBLISHABLE_KEY,
    webhookSecret: config.STRIPE_WEBHOOK_SECRET,
    enqueueEmail: options.enqueueEmail,
    notify: options.notify,
  };
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;
  const sweep = () => expireOverdue(deps);
  const stopSweeping = async () => {
    clearInterval(timer);
    await sweeping;
  };

  return {
    name: 'orders',
    routes: ordersRoutes(deps, payments),
    health: () => ({ status: 'ok', payments: payments.stripe ? 'stripe' : 'not_configured' }),
    start() {
      timer = setInterval(() => {
        if (sweeping) return;
        sweeping = sweep()
          .catch((error) => logger.warn(`[ORDERS] Expiry sweep failed: ${(error as Error).message}`))
          .finally(() => {
            sweeping = undefined;
          });
      }, config.ORDER_SWEEP_MS);
      timer.unref();
    },
    sweepExpiredOrders: sweep,
    beginShutdown: stopSweeping,
    stop: stopSweeping,
  };
}
