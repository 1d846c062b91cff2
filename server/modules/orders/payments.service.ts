import type Stripe from 'stripe';
import type { PaymentIntentView } from '../../../shared/contracts';
import type { Database, DbOrTx, UnitOfWork } from '../../db';
import { AppError, badRequest, conflict, notFound, serviceUnavailable } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { orderConfirmationEmail, type OutgoingEmail, vendorNewOrderEmail } from '../email';
import {
  attachPaymentIntent,
  findItems,
  findOrder,
  findUserContact,
  findVendorContacts,
  finishStripeEvent,
  lockOrder,
  lockOrderByPaymentIntent,
  type OrderRow,
  recordStripeEvent,
  setOrderStatus,
} from './orders.repository';
import type { Notify } from './orders.service';

export interface PaymentsDeps {
  database: Database;
  logger: Logger;
  stripe?: Stripe;
  publishableKey?: string;
  webhookSecret?: string;
  enqueueEmail(unit: UnitOfWork, mail: OutgoingEmail): Promise<void>;
  notify?: Notify;
}

const notConfigured = () => serviceUnavailable('payments_not_configured', 'Card payments are not configured on this server');

/**
 * Creates (or finds) the order's PaymentIntent. The amount comes from the database, never the
 * client; the idempotency key is derived from the order, so concurrent or repeated calls get
 * the same intent from Stripe itself.
 */
export async function createPaymentIntent(deps: PaymentsDeps, buyerId: string, orderId: string): Promise<PaymentIntentView> {
  if (!deps.stripe) throw notConfigured();
  const order = await findOrder(deps.database.db, orderId);
  if (!order || order.buyerId !== buyerId) throw notFound('Order');
  if (order.paymentMethod !== 'card') throw conflict('wrong_payment_method', 'This order is paid in crypto');
  if (order.status !== 'pending') throw conflict('order_not_payable', `A ${order.status} order cannot be paid`);
  let intent: Stripe.PaymentIntent;
  if (order.stripePaymentIntentId) {
    intent = await deps.stripe.paymentIntents.retrieve(order.stripePaymentIntentId);
  } else {
    intent = await deps.stripe.paymentIntents.create(
      { amount: order.totalCents, currency: order.currency, metadata: { orderId: order.id }, automatic_payment_methods: { enabled: true } },
      { idempotencyKey: `order-payment-intent:${order.id}` },
    );
    await attachPaymentIntent(deps.database.db, order.id, intent.id);
  }
  if (!intent.client_secret) throw new AppError(502, 'payment_provider_error', 'Stripe returned no client secret');
  return { paymentIntentId: intent.id, clientSecret: intent.client_secret, publishableKey: deps.publishableKey ?? null };
}

/** Verifies the signature over the exact bytes Stripe sent; anything else is a 400. */
export function verifyStripeEvent(deps: PaymentsDeps, raw: Buffer | undefined, signature: string | undefined): Stripe.Event {
  if (!deps.stripe || !deps.webhookSecret) throw notConfigured();
  if (!raw || !signature) throw badRequest('invalid_signature', 'Missing Stripe signature or JSON body');
  try {
    return deps.stripe.webhooks.constructEvent(raw, signature, deps.webhookSecret);
  } catch {
    throw badRequest('invalid_signature', 'The Stripe signature does not match');
  }
}

/**
 * Processes an event exactly once: its id is inserted in the same transaction as its effects.
 * A concurrent redelivery blocks on that primary key until the first commits, then finds it and
 * does nothing; if the first fails, its insert rolls back with it and the retry processes.
 */
export async function processStripeEvent(deps: PaymentsDeps, event: Stripe.Event): Promise<{ duplicate: boolean; outcome?: string }> {
  const result = await deps.database.transaction(async (unit) => {
    if (!(await recordStripeEvent(unit.tx, { id: event.id, type: event.type, payload: event }))) return { duplicate: true };
    const outcome = await applyEvent(deps, unit, event);
    await finishStripeEvent(unit.tx, event.id, outcome);
    return { duplicate: false, outcome };
  });
  if (!result.duplicate) deps.logger.info(`[STRIPE] ${event.type} ${event.id}: ${result.outcome}`);
  return result;
}

async function applyEvent(deps: PaymentsDeps, unit: UnitOfWork, event: Stripe.Event): Promise<string> {
  const { tx } = unit;
  switch (event.type) {
    case 'payment_intent.succeeded':
      return paymentSucceeded(deps, unit, event.data.object);
    case 'payment_intent.payment_failed': {
      const order = await orderOfIntent(tx, event.data.object);
      if (!order) return 'unknown_order';
      await deps.notify?.(tx, { userId: order.buyerId, type: 'order.payment_failed', payload: { orderId: order.id } });
      // The order stays pending: the buyer may retry with another card until it expires.
      return 'payment_failed_recorded';
    }
    case 'charge.refunded': {
      const charge = event.data.object;
      const intentId = typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id;
      const order = intentId ? await lockOrderByPaymentIntent(tx, intentId) : undefined;
      if (!order) return 'unknown_order';
      if (charge.amount_refunded < charge.amount) return 'partial_refund_recorded';
      if (order.status !== 'paid' && order.status !== 'review') return `ignored_refund_of_${order.status}_order`;
      await setOrderStatus(tx, order.id, 'refunded');
      await deps.notify?.(tx, { userId: order.buyerId, type: 'order.refunded', payload: { orderId: order.id } });
      return 'refunded';
    }
    default:
      return 'ignored';
  }
}

async function orderOfIntent(tx: DbOrTx, intent: Stripe.PaymentIntent): Promise<OrderRow | undefined> {
  const orderId = intent.metadata?.orderId;
  if (orderId && /^[0-9a-f-]{36}$/i.test(orderId)) {
    const order = await lockOrder(tx, orderId);
    if (order) return order;
  }
  return lockOrderByPaymentIntent(tx, intent.id);
}

async function paymentSucceeded(deps: PaymentsDeps, unit: UnitOfWork, intent: Stripe.PaymentIntent): Promise<string> {
  const { tx } = unit;
  const order = await orderOfIntent(tx, intent);
  if (!order) return 'unknown_order';
  if (order.status === 'paid') return 'already_paid';
  const received = intent.amount_received || intent.amount;
  if (received !== order.totalCents || intent.currency.toLowerCase() !== order.currency) {
    await setOrderStatus(tx, order.id, 'review');
    deps.logger.warn(
      `[STRIPE] Amount mismatch on order ${order.id}: Stripe says ${received} ${intent.currency}, order is ${order.totalCents} ${order.currency}; left for review`,
    );
    return 'amount_mismatch_review';
  }
  if (order.status !== 'pending') {
    // Paid after it expired or was cancelled: its stock was released, so a human decides.
    await setOrderStatus(tx, order.id, 'review', { paidAt: new Date() });
    deps.logger.warn(`[STRIPE] Payment for ${order.status} order ${order.id}; left for review`);
    return `paid_after_${order.status}_review`;
  }
  await setOrderStatus(tx, order.id, 'paid', { paidAt: new Date(), stripePaymentIntentId: order.stripePaymentIntentId ?? intent.id });

  const items = await findItems(tx, order.id);
  const paid = { id: order.id, totalCents: order.totalCents, currency: order.currency, items };
  const buyer = await findUserContact(tx, order.buyerId);
  if (buyer) await deps.enqueueEmail(unit, orderConfirmationEmail(paid, buyer));
  for (const vendor of await findVendorContacts(tx, [...new Set(items.map((i) => i.vendorId))])) {
    await deps.enqueueEmail(unit, vendorNewOrderEmail(paid, vendor));
    await deps.notify?.(tx, { userId: vendor.userId, type: 'order.paid', payload: { orderId: order.id, totalCents: order.totalCents, currency: order.currency } });
  }
  return 'paid';
}
