import type { UnitOfWork } from '../../db';
import type { AppModule, ModuleContext } from '../../lib/module';
import type { OutgoingEmail } from '../email';
import type { CryptoInvoices } from './crypto-invoice';
import { applyPaymentUpdate, type OrderPaymentsDeps, type PaymentUpdate } from './order-payments';
import { sweepExpiredKeys } from './order-idempotency';
import type { OrderStatus } from './order-state';
import { ordersRoutes } from './orders.routes';
import {
  type AdminOrderView,
  acceptReviewOrder,
  findOrderForRefund,
  listOrdersForAdmin,
  markOrderRefunded,
  type RefundableOrder,
  type ReviewResolutionDeps,
} from './review-resolution';
import { vendorOrdersRoutes } from './vendor-orders.routes';
import { expireOverdue, type Notify, type OrdersDeps, type QuoteCrypto, type StockKeeper } from './orders.service';

export { ENDED_BY_FAILED_PAYMENT, findPayableOrder, type PaymentUpdate, recordPaymentReference } from './order-payments';
export type { Notify, QuoteCrypto } from './orders.service';
export type { AdminOrderView, RefundableOrder } from './review-resolution';
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
  /** Orders for the admin console, newest first, optional status filter (e.g. 'review'), keyset cursor. */
  listOrdersForAdmin(query: {
    status?: OrderStatus;
    limit: number;
    cursor?: string;
  }): Promise<{ orders: AdminOrderView[]; nextCursor: string | null }>;
  /**
   * review → paid inside the caller's unit: the order's stock is taken again (it was released when the order
   * expired/failed); not enough stock → AppError 409 `insufficient_stock` (the admin must refund instead).
   * Queues the buyer's confirmation mail and the vendors' new-order mail/push like a normal payment.
   * Not in review → 409 `invalid_transition`; missing → 404.
   */
  acceptReviewOrder(unit: UnitOfWork, orderId: string): Promise<{ before: AdminOrderView; after: AdminOrderView }>;
  /** What a refund needs to know about the order; with a unit, under the order's row lock until it ends. undefined: no such order. */
  findOrderForRefund(orderId: string, unit?: UnitOfWork): Promise<RefundableOrder | undefined>;
  /**
   * After the provider accepted a full refund: the order becomes `refunded` through the state machine inside
   * the caller's unit; stock goes back when the goods had not shipped (pending, paid, processing), never for
   * shipped/delivered ones. Not refundable from its status (already refunded, for one) → 409 `invalid_transition`.
   */
  markOrderRefunded(unit: UnitOfWork, orderId: string, refundedCents: number): Promise<{ before: AdminOrderView; after: AdminOrderView }>;
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
  const resolution: ReviewResolutionDeps = {
    clock,
    stock: options.stock,
    enqueueEmail: options.enqueueEmail,
    notify: options.notify,
  };
  // Run by the job queue on ORDER_EXPIRY_CRON (see app.ts); tests call it directly.
  const sweep = () => expireOverdue(deps);

  return {
    name: 'orders',
    routes: [...ordersRoutes(deps), ...vendorOrdersRoutes({ database, enqueueEmail: options.enqueueEmail, notify: options.notify })],
    sweepExpiredOrders: sweep,
    sweepIdempotencyKeys: () => sweepExpiredKeys(database.db, clock.now()),
    applyPaymentUpdate: (unit, update) => applyPaymentUpdate(payments, unit, update),
    listOrdersForAdmin: (query) => listOrdersForAdmin(database.db, query),
    acceptReviewOrder: (unit, orderId) => acceptReviewOrder(resolution, unit, orderId),
    findOrderForRefund: (orderId, unit) => findOrderForRefund(unit?.tx ?? database.db, orderId, unit !== undefined),
    markOrderRefunded: (unit, orderId, refundedCents) => markOrderRefunded(resolution, unit, orderId, refundedCents),
  };
}
