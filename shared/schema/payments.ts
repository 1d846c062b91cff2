// Owned by the payments module: provider events, recorded once each.
import { jsonb, pgTable, text } from 'drizzle-orm/pg-core';
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
