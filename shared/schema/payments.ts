// Owned by the payments module: provider events, recorded once each.
import { index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, tstz } from './columns';

/* One row per Stripe event id: the primary key is what makes processing exactly-once. */
export const stripeEvents = pgTable('stripe_events', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  payload: jsonb('payload').notNull(),
  receivedAt: createdAt(),
  processedAt: tstz('processed_at'),
  outcome: text('outcome'),
});

/*
 * One row per BTCPay Server webhook event. The key is the event itself, not the delivery
 * (a redelivery carries a new delivery id and the first one's `originalDeliveryId`), so six
 * deliveries of one event insert one row and act once.
 */
export const btcpayEvents = pgTable(
  'btcpay_events',
  {
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    invoiceId: text('invoice_id').notNull(),
    payload: jsonb('payload').notNull(),
    receivedAt: createdAt(),
    processedAt: tstz('processed_at'),
    outcome: text('outcome'),
  },
  (t) => [index('btcpay_events_invoice_id_idx').on(t.invoiceId)],
);
