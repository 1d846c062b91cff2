// Owned by the orders module: orders and their lines (stock itself belongs to the catalogue).
import { sql } from 'drizzle-orm';
import { check, index, integer, numeric, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { orderStatuses, paymentMethods } from '../enums';
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
    createdAt: createdAt(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    check('orders_total_nonnegative', sql`${t.totalCents} >= 0`),
    index('orders_buyer_newest_idx').on(t.buyerId, t.createdAt.desc(), t.id.desc()),
    // The expiry sweep only looks at unpaid orders.
    index('orders_pending_expiry_idx').on(t.expiresAt).where(sql`status = 'pending'`),
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
