import type Stripe from 'stripe';
import type { UnitOfWork } from '../../db';
import type { AppModule, ModuleContext } from '../../lib/module';
import type { OutgoingEmail } from '../email';
import { ordersRouter } from './orders.routes';
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
  /** Expires overdue unpaid orders now; returns how many (the periodic job calls the same). */
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
  // Run by the job queue on ORDER_EXPIRY_CRON (see app.ts); tests call it directly.
  const sweep = () => expireOverdue(deps);

  return {
    name: 'orders',
    mount(app) {
      app.use('/api', ordersRouter(deps, payments));
    },
    health: () => ({ status: 'ok', payments: payments.stripe ? 'stripe' : 'not_configured' }),
    sweepExpiredOrders: sweep,
  };
}
