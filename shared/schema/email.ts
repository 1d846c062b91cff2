// Owned by the email module: the record of every mail (the job queue carries the work).
import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { emailStatuses } from '../enums';
import { createdAt, id, tstz } from './columns';

/*
 * Outbox: rows are written in the same transaction as the event that causes the mail, and a
 * background sender delivers them. `dedupeKey` makes "each mail once" hold even if the
 * causing event is processed twice.
 */
export const emailOutbox = pgTable(
  'email_outbox',
  {
    id: id(),
    kind: text('kind').notNull(),
    dedupeKey: text('dedupe_key').notNull().unique(),
    toEmail: text('to_email').notNull(),
    toName: text('to_name'),
    subject: text('subject').notNull(),
    html: text('html').notNull(),
    text: text('text').notNull(),
    status: text('status', { enum: emailStatuses }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    // When the latest attempt (or re-queue) started; the job queue decides when the next one runs.
    lastAttemptAt: tstz('last_attempt_at').notNull().defaultNow(),
    // A worker sending this mail holds it until then: no other worker (or instance) sends it meanwhile.
    claimedUntil: tstz('claimed_until'),
    lastError: text('last_error'),
    providerMessageId: text('provider_message_id'),
    sentAt: tstz('sent_at'),
    createdAt: createdAt(),
  },
  // The health backlog counts pending rows.
  (t) => [index('email_outbox_pending_idx').on(t.status).where(sql`status = 'pending'`)],
);
