import type { UnitOfWork } from '../../db';
import type { AppModule, ModuleContext } from '../../lib/module';
import type { OutgoingEmail } from '../email';
import type { CryptoInvoices } from './crypto-invoice';
import { applyPaymentUpdate, type OrderPaymentsDeps, type PaymentUpdate } from './order-payments';
import { sweepExpiredKeys } from './order-idempotency';
import { ordersRoutes } from './orders.routes';
import { expireOverdue, type Notify, type OrdersDeps, type QuoteCrypto, type StockKeeper } from './orders.service';

export { ENDED_BY_FAILED_PAYMENT, findPayableOrder, type PaymentUpdate, recordPaymentReference } from './order-payments';
export type { Notify, QuoteCrypto } from './orders.service';
export type { CryptoInvoices } from './crypto-invoice';

export interface OrdersOptions {
  /** The catalogue, which owns stock. */
  stock: StockKeeper;
  enqueueEmail(unit: UnitOfWork, mail: OutgoingEmail): Promise<void>;
  quoteCrypto?: QuoteCrypto;
  /** The crypto payment processor (payments' BTCPay Server); unset, crypto checkout answers 503. */
  cryptoInvoices?: CryptoInvoices;
  notify?: Notify;
}

export interface OrdersModule extends AppModule {
  /** Expires overdue unpaid orders now; returns how many (the periodic job calls the same). */
  sweepExpiredOrders(): Promise<number>;
  /** Deletes Idempotency-Keys past their 24 h; returns how many (the periodic job calls it). */
  sweepIdempotencyKeys(): Promise<number>;
  /** Applies a payment provider's verdict inside the caller's unit of work (payments calls it). */
  applyPaymentUpdate(unit: UnitOfWork, update: PaymentUpdate): Promise<string>;
}

export function createOrdersModule(context: ModuleContext, options: OrdersOptions): OrdersModule {
  const { config, logger, database, clock } = context;
  const deps: OrdersDeps = {
    database,
    clock,
    logger,
    limits: {
      cryptoHoldMinutes: config.ORDER_EXPIRY_MINUTES,
      cardHoldMinutes: config.ORDER_CARD_HOLD_MINUTES,
      maxQuantityPerProduct: config.ORDER_MAX_QUANTITY_PER_PRODUCT,
      maxOpenUnpaid: config.ORDER_MAX_OPEN_UNPAID,
    },
    stock: options.stock,
    quoteCrypto: options.quoteCrypto,
    cryptoInvoices: options.cryptoInvoices,
    cardPaymentsEnabled: config.STRIPE_ENABLED,
  };
  const payments: OrderPaymentsDeps = {
    clock,
    logger,
    enqueueEmail: options.enqueueEmail,
    notify: options.notify,
    releaseStock: (unit, lines) => options.stock.releaseStock(unit, lines),
  };
  // Run by the job queue on ORDER_EXPIRY_CRON (see app.ts); tests call it directly.
  const sweep = () => expireOverdue(deps);

  return {
    name: 'orders',
    routes: ordersRoutes(deps),
    sweepExpiredOrders: sweep,
    sweepIdempotencyKeys: () => sweepExpiredKeys(database.db, clock.now()),
    applyPaymentUpdate: (unit, update) => applyPaymentUpdate(payments, unit, update),
  };
}
