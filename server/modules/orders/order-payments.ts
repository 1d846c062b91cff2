import type { Db, DbOrTx, UnitOfWork } from '../../db';
import type { Clock } from '../../lib/clock';
import { conflict, notFound } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { OutgoingEmail } from '../email';
import {
  attachPaymentReference,
  findItems,
  findOrder,
  lockOrder,
  lockOrderByCryptoInvoice,
  lockOrderByPaymentReference,
  type OrderRow,
  setOrderStatus,
} from './orders.repository';
import { nextStatus, refundReleasesStock } from './order-state';
import { announcePaidOrder } from './paid-order-announcement';
import type { Notify } from './orders.service';

/*
 * The order's side of payments: which orders may be paid, and what a provider's verdict does
 * to an order. The provider side (Stripe, its webhooks, event deduplication) lives in the
 * payments module, which calls these with provider-neutral updates.
 */

/**
 * A provider's verdict on an order's payment, already verified and deduplicated by payments.
 * `reference` is the card payment (intent) id, or with `referenceIs: 'crypto_invoice'` the crypto
 * invoice the order was placed with (the order is found by it, and must be `orderId` when given).
 */
export type PaymentUpdate =
  | { kind: 'succeeded'; orderId?: string; reference: string; referenceIs?: ReferenceKind; amountCents: number; currency: string }
  | { kind: 'failed'; orderId?: string; reference: string; reason: 'declined' | 'cancelled' }
  | { kind: 'refunded'; reference: string; amountCents: number; amountRefundedCents: number }
  // The invoice can no longer be paid (expired or invalidated unpaid): a pending order ends and its stock goes back.
  | { kind: 'expired'; orderId?: string; reference: string; referenceIs: 'crypto_invoice' }
  // Money arrived that does not settle the order as placed (part of it, or after the invoice expired): a human decides.
  | {
      kind: 'needs_review';
      orderId?: string;
      reference: string;
      referenceIs: 'crypto_invoice';
      reason: 'partial_payment' | 'late_payment';
    };

type ReferenceKind = 'payment_intent' | 'crypto_invoice';

export interface PayableOrder {
  id: string;
  totalCents: number;
  currency: string;
  /** The provider's payment (intent) id once one was created. */
  paymentReference: string | null;
}

export interface OrderPaymentsDeps {
  clock: Clock;
  logger: Logger;
  enqueueEmail(unit: UnitOfWork, mail: OutgoingEmail): Promise<void>;
  notify?: Notify;
  /** Puts an order's reserved stock back (the catalogue owns it). */
  releaseStock(unit: UnitOfWork, lines: ReadonlyArray<{ productId: string; quantity: number }>): Promise<void>;
}

/** The buyer's pending card order, or 404 (not theirs / unknown) or 409 (not payable by card now). */
export async function findPayableOrder(db: Db, buyerId: string, orderId: string): Promise<PayableOrder> {
  const order = await findOrder(db, orderId);
  if (!order || order.buyerId !== buyerId) throw notFound('Order');
  if (order.paymentMethod !== 'card') throw conflict('wrong_payment_method', 'This order is paid in crypto');
  if (order.status !== 'pending') throw conflict('order_not_payable', `A ${order.status} order cannot be paid`);
  return { id: order.id, totalCents: order.totalCents, currency: order.currency, paymentReference: order.stripePaymentIntentId };
}

/** Remembers the provider's payment id on the order (first one wins). */
export async function recordPaymentReference(db: DbOrTx, orderId: string, reference: string): Promise<void> {
  await attachPaymentReference(db, orderId, reference);
}

/**
 * Applies a payment verdict inside the caller's unit of work (the one that records the
 * provider event, so each verdict applies once) and returns what happened, for the log.
 * Where the order goes is the transition table's call (order-state.ts), whatever order the
 * provider's events arrive in.
 */
export async function applyPaymentUpdate(deps: OrderPaymentsDeps, unit: UnitOfWork, update: PaymentUpdate): Promise<string> {
  switch (update.kind) {
    case 'succeeded':
      return paymentSucceeded(deps, unit, update);
    case 'failed':
      return paymentFailed(deps, unit, update);
    case 'refunded':
      return paymentRefunded(deps, unit, update);
    case 'expired':
      return invoiceExpired(deps, unit, update);
    case 'needs_review':
      return paymentNeedsReview(deps, unit, update);
  }
}

/** An unpaid crypto invoice ended: its pending order expires now (not at its hold time) and its stock goes back. */
async function invoiceExpired(deps: OrderPaymentsDeps, unit: UnitOfWork, update: Extract<PaymentUpdate, { kind: 'expired' }>) {
  const order = await lockOrderOfInvoice(unit.tx, update);
  if (typeof order === 'string') return order;
  if (nextStatus(order.status, 'expire') !== 'expired') return `ignored_expiry_of_${order.status}_order`;
  await setOrderStatus(unit.tx, order.id, 'expired');
  await deps.releaseStock(unit, await findItems(unit.tx, order.id));
  await deps.notify?.(unit, { userId: order.buyerId, type: 'order.expired', payload: { orderId: order.id } });
  return 'expired_stock_released';
}

async function paymentNeedsReview(deps: OrderPaymentsDeps, unit: UnitOfWork, update: Extract<PaymentUpdate, { kind: 'needs_review' }>) {
  const order = await lockOrderOfInvoice(unit.tx, update);
  if (typeof order === 'string') return order;
  const next = nextStatus(order.status, 'payment_mismatched');
  if (!next || next === order.status) return `ignored_${update.reason}_of_${order.status}_order`;
  await setOrderStatus(unit.tx, order.id, next);
  // An order in review holds no stock (an admin accepting it takes it again): a pending one gives its reservation back.
  if (order.status === 'pending') await deps.releaseStock(unit, await findItems(unit.tx, order.id));
  deps.logger.warn(
    `[PAYMENTS] ${update.reason.replace('_', ' ')} on ${order.status} order ${order.id} (invoice ${update.reference}); left for review`,
  );
  return `${update.reason}_review`;
}

/** The order placed with this invoice, or why there is none to act on (the outcome recorded). */
async function lockOrderOfInvoice(tx: DbOrTx, update: { orderId?: string; reference: string }): Promise<OrderRow | string> {
  const order = await lockOrderByCryptoInvoice(tx, update.reference);
  if (!order) return 'unknown_invoice';
  // The invoice's metadata names the order it was opened for; a disagreement is never acted on.
  if (update.orderId && update.orderId !== order.id) return 'invoice_order_mismatch';
  return order;
}

/** What `applyPaymentUpdate` answers when a failure ended a pending order (payments then stops the provider's payment). */
export const ENDED_BY_FAILED_PAYMENT = 'payment_failed_stock_released';

/** A failed or cancelled payment ends a pending order and puts its stock back in the same unit of work. */
async function paymentFailed(deps: OrderPaymentsDeps, unit: UnitOfWork, update: Extract<PaymentUpdate, { kind: 'failed' }>) {
  const order = await lockOrderOf(unit.tx, update);
  if (!order) return 'unknown_order';
  const next = nextStatus(order.status, 'payment_failed');
  if (!next || next === order.status) return `ignored_failure_of_${order.status}_order`;
  await setOrderStatus(unit.tx, order.id, next);
  await deps.releaseStock(unit, await findItems(unit.tx, order.id));
  await deps.notify?.(unit, { userId: order.buyerId, type: 'order.payment_failed', payload: { orderId: order.id } });
  return ENDED_BY_FAILED_PAYMENT;
}

async function paymentRefunded(deps: OrderPaymentsDeps, unit: UnitOfWork, update: Extract<PaymentUpdate, { kind: 'refunded' }>) {
  const order = await lockOrderByPaymentReference(unit.tx, update.reference);
  if (!order) return 'unknown_order';
  const event = update.amountRefundedCents >= update.amountCents ? 'refunded' : 'partially_refunded';
  const next = nextStatus(order.status, event);
  if (!next) return `ignored_refund_of_${order.status}_order`;
  // The provider reports a running total; a late, smaller one never lowers what is recorded.
  const refundedCents = Math.max(order.refundedCents, update.amountRefundedCents);
  await setOrderStatus(unit.tx, order.id, next, { refundedCents });
  if (next === order.status) return event === 'refunded' ? 'already_refunded' : 'partial_refund_recorded';
  // Refunded before its goods left (or before its success arrived): nothing will be delivered, so its stock goes back.
  if (refundReleasesStock(order.status)) await deps.releaseStock(unit, await findItems(unit.tx, order.id));
  await deps.notify?.(unit, { userId: order.buyerId, type: 'order.refunded', payload: { orderId: order.id } });
  return 'refunded';
}

async function lockOrderOf(tx: DbOrTx, update: { orderId?: string; reference: string }): Promise<OrderRow | undefined> {
  if (update.orderId && /^[0-9a-f-]{36}$/i.test(update.orderId)) {
    const order = await lockOrder(tx, update.orderId);
    if (order) return order;
  }
  return lockOrderByPaymentReference(tx, update.reference);
}

async function paymentSucceeded(
  deps: OrderPaymentsDeps,
  unit: UnitOfWork,
  update: Extract<PaymentUpdate, { kind: 'succeeded' }>,
): Promise<string> {
  const { tx } = unit;
  const crypto = update.referenceIs === 'crypto_invoice';
  const found = crypto ? await lockOrderOfInvoice(tx, update) : await lockOrderOf(tx, update);
  if (!found) return 'unknown_order';
  if (typeof found === 'string') return found;
  const order = found;
  const mismatch = update.amountCents !== order.totalCents || update.currency.toLowerCase() !== order.currency;
  const next = nextStatus(order.status, mismatch ? 'payment_mismatched' : 'payment_succeeded');
  if (next === undefined || next === order.status)
    return order.status === 'paid' ? 'already_paid' : `ignored_payment_of_${order.status}_order`;
  const paidAt = new Date(deps.clock.now());
  if (mismatch) {
    await setOrderStatus(tx, order.id, next);
    // An order in review holds no stock (an admin accepting it takes it again): a pending one gives its reservation back.
    if (order.status === 'pending') await deps.releaseStock(unit, await findItems(tx, order.id));
    deps.logger.warn(
      `[PAYMENTS] Amount mismatch on order ${order.id}: provider says ${update.amountCents} ${update.currency}, order is ${order.totalCents} ${order.currency}; left for review`,
    );
    return 'amount_mismatch_review';
  }
  if (next === 'review') {
    // Paid after it expired or was cancelled: its stock was released, so a human decides.
    await setOrderStatus(tx, order.id, next, { paidAt });
    deps.logger.warn(`[PAYMENTS] Payment for ${order.status} order ${order.id}; left for review`);
    return `paid_after_${order.status}_review`;
  }
  await setOrderStatus(
    tx,
    order.id,
    next,
    crypto ? { paidAt } : { paidAt, stripePaymentIntentId: order.stripePaymentIntentId ?? update.reference },
  );

  await announcePaidOrder(deps, unit, order);
  return 'paid';
}
