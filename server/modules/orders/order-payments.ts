import type { Db, DbOrTx, UnitOfWork } from '../../db';
import type { Clock } from '../../lib/clock';
import { conflict, notFound } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { findUserContacts } from '../auth';
import { findVendorSummaries } from '../catalogue';
import { type OutgoingEmail, orderConfirmationEmail, vendorNewOrderEmail } from '../email';
import {
  attachPaymentReference,
  findItems,
  findOrder,
  lockOrder,
  lockOrderByPaymentReference,
  type OrderRow,
  setOrderStatus,
} from './orders.repository';
import type { Notify } from './orders.service';

/*
 * The order's side of payments: which orders may be paid, and what a provider's verdict does
 * to an order. The provider side (Stripe, its webhooks, event deduplication) lives in the
 * payments module, which calls these with provider-neutral updates.
 */

/** A provider's verdict on an order's payment, already verified and deduplicated by payments. */
export type PaymentUpdate =
  | { kind: 'succeeded'; orderId?: string; reference: string; amountCents: number; currency: string }
  | { kind: 'failed'; orderId?: string; reference: string }
  | { kind: 'refunded'; reference: string; amountCents: number; amountRefundedCents: number };

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
 */
export async function applyPaymentUpdate(deps: OrderPaymentsDeps, unit: UnitOfWork, update: PaymentUpdate): Promise<string> {
  switch (update.kind) {
    case 'succeeded':
      return paymentSucceeded(deps, unit, update);
    case 'failed': {
      const order = await lockOrderOf(unit.tx, update);
      if (!order) return 'unknown_order';
      await deps.notify?.(unit, { userId: order.buyerId, type: 'order.payment_failed', payload: { orderId: order.id } });
      // The order stays pending: the buyer may retry with another card until it expires.
      return 'payment_failed_recorded';
    }
    case 'refunded': {
      const order = await lockOrderByPaymentReference(unit.tx, update.reference);
      if (!order) return 'unknown_order';
      if (update.amountRefundedCents < update.amountCents) return 'partial_refund_recorded';
      if (order.status !== 'paid' && order.status !== 'review') return `ignored_refund_of_${order.status}_order`;
      await setOrderStatus(unit.tx, order.id, 'refunded');
      await deps.notify?.(unit, { userId: order.buyerId, type: 'order.refunded', payload: { orderId: order.id } });
      return 'refunded';
    }
  }
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
  const order = await lockOrderOf(tx, update);
  if (!order) return 'unknown_order';
  if (order.status === 'paid') return 'already_paid';
  const paidAt = new Date(deps.clock.now());
  if (update.amountCents !== order.totalCents || update.currency.toLowerCase() !== order.currency) {
    await setOrderStatus(tx, order.id, 'review');
    deps.logger.warn(
      `[PAYMENTS] Amount mismatch on order ${order.id}: provider says ${update.amountCents} ${update.currency}, order is ${order.totalCents} ${order.currency}; left for review`,
    );
    return 'amount_mismatch_review';
  }
  if (order.status !== 'pending') {
    // Paid after it expired or was cancelled: its stock was released, so a human decides.
    await setOrderStatus(tx, order.id, 'review', { paidAt });
    deps.logger.warn(`[PAYMENTS] Payment for ${order.status} order ${order.id}; left for review`);
    return `paid_after_${order.status}_review`;
  }
  await setOrderStatus(tx, order.id, 'paid', { paidAt, stripePaymentIntentId: order.stripePaymentIntentId ?? update.reference });

  const items = await findItems(tx, order.id);
  const paid = { id: order.id, totalCents: order.totalCents, currency: order.currency, items };
  const vendors = await findVendorSummaries(
    tx,
    items.map((i) => i.vendorId),
  );
  const contacts = new Map((await findUserContacts(tx, [order.buyerId, ...vendors.map((v) => v.userId)])).map((c) => [c.id, c]));
  const buyer = contacts.get(order.buyerId);
  if (buyer) await deps.enqueueEmail(unit, orderConfirmationEmail(paid, buyer));
  for (const vendor of vendors) {
    const contact = contacts.get(vendor.userId);
    if (contact)
      await deps.enqueueEmail(
        unit,
        vendorNewOrderEmail(paid, { id: vendor.id, storeName: vendor.storeName, email: contact.email, name: contact.name }),
      );
    await deps.notify?.(unit, {
      userId: vendor.userId,
      type: 'order.paid',
      payload: { orderId: order.id, totalCents: order.totalCents, currency: order.currency },
    });
  }
  return 'paid';
}
