// Owned by the orders module: orders and their lines (stock itself belongs to the catalogue).
import { sql } from 'drizzle-orm';
import { check, index, integer, numeric, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { fulfilmentStatuses, orderStatuses, paymentMethods } from '../enums';
import { products, vendors } from './catalogue';
import { createdAt, id, tstz } from './columns';
import { users } from './auth';

export const orders = pgTable(
  'orders',
  {
    id: id(),
    buyerId: uuid('buyer_id')
      .notNull()
      .references(() => users.id),
    status: text('status', { enum: orderStatuses }).notNull().default('pending'),
    paymentMethod: text('payment_method', { enum: paymentMethods }).notNull(),
    totalCents: integer('total_cents').notNull(),
    currency: text('currency').notNull(),
    expiresAt: tstz('expires_at').notNull(),
    paidAt: tstz('paid_at'),
    // What the provider has refunded so far (its running total); a paid order stays paid until all of it is.
    refundedCents: integer('refunded_cents').notNull().default(0),
    stripePaymentIntentId: text('stripe_payment_intent_id').unique(),
    cryptoSymbol: text('crypto_symbol'),
    cryptoAmount: numeric('crypto_amount', { precision: 38, scale: 18 }),
    cryptoRate: numeric('crypto_rate', { precision: 38, scale: 12 }),
    cryptoRateTier: text('crypto_rate_tier'),
    cryptoRateSource: text('crypto_rate_source'),
    cryptoQuoteExpiresAt: tstz('crypto_quote_expires_at'),
    // The crypto payment processor's invoice (BTCPay Server) and where the buyer pays it.
    cryptoInvoiceId: text('crypto_invoice_id').unique(),
    cryptoCheckoutUrl: text('crypto_checkout_url'),
    createdAt: createdAt(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    check('orders_total_nonnegative', sql`${t.totalCents} >= 0`),
    index('orders_buyer_newest_idx').on(t.buyerId, t.createdAt.desc(), t.id.desc()),
    // The expiry sweep only looks at unpaid orders.
    index('orders_pending_expiry_idx').on(t.expiresAt).where(sql`status = 'pending'`),
    index('orders_status_newest_idx').on(t.status, t.createdAt.desc(), t.id.desc()),
  ],
);

export const orderItems = pgTable(
  'order_items',
  {
    id: id(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id),
    vendorId: uuid('vendor_id')
      .notNull()
      .references(() => vendors.id),
    title: text('title').notNull(),
    quantity: integer('quantity').notNull(),
    unitPriceCents: integer('unit_price_cents').notNull(),
  },
  (t) => [
    check('order_items_quantity_positive', sql`${t.quantity} > 0`),
    index('order_items_order_id_idx').on(t.orderId),
    index('order_items_product_id_idx').on(t.productId),
    index('order_items_vendor_id_idx').on(t.vendorId, t.orderId),
  ],
);

/**
 * `Idempotency-Key`s of `POST /api/orders`, per buyer: the request's fingerprint and the answer
 * it got, written in the order's own transaction (a placement that fails leaves no key). Kept
 * 24 h, then swept.
 */
export const orderIdempotencyKeys = pgTable(
  'order_idempotency_keys',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    /** SHA-256 of the validated request body: the same key with another body is refused. */
    requestHash: text('request_hash').notNull(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    responseStatus: integer('response_status').notNull(),
    /** The JSON text sent, kept as text so a replay sends the same bytes (jsonb would reorder keys). */
    responseBody: text('response_body').notNull(),
    createdAt: tstz('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.key] }),
    index('order_idempotency_keys_created_at_idx').on(t.createdAt),
    index('order_idempotency_keys_order_id_idx').on(t.orderId),
  ],
);

/**
 * One vendor's part of a paid order: where its lines are (processing, shipped with a carrier and
 * tracking number, delivered). No row yet means the vendor has not started (`paid`).
 */
export const orderFulfilments = pgTable(
  'order_fulfilments',
  {
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    vendorId: uuid('vendor_id')
      .notNull()
      .references(() => vendors.id),
    status: text('status', { enum: fulfilmentStatuses }).notNull().default('paid'),
    carrier: text('carrier'),
    trackingNumber: text('tracking_number'),
    shippedAt: tstz('shipped_at'),
    deliveredAt: tstz('delivered_at'),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.vendorId] }), index('order_fulfilments_vendor_status_idx').on(t.vendorId, t.status)],
);
