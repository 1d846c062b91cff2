import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, tstz } from './columns';
import { users } from './users';

export const emailStatuses = ['pending', 'sent', 'failed'] as const;

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
    nextAttemptAt: tstz('next_attempt_at').notNull().defaultNow(),
    lastError: text('last_error'),
    providerMessageId: text('provider_message_id'),
    sentAt: tstz('sent_at'),
    createdAt: createdAt(),
  },
  (t) => [index('email_outbox_due_idx').on(t.nextAttemptAt).where(sql`status = 'pending'`)],
);

export const notifications = pgTable(
  'notifications',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull().default({}),
    readAt: tstz('read_at'),
    createdAt: createdAt(),
  },
  (t) => [index('notifications_user_newest_idx').on(t.userId, t.createdAt.desc(), t.id.desc())],
);

export const messages = pgTable(
  'messages',
  {
    id: id(),
    senderId: uuid('sender_id')
      .notNull()
      .references(() => users.id),
    recipientId: uuid('recipient_id')
      .notNull()
      .references(() => users.id),
    body: text('body').notNull(),
    readAt: tstz('read_at'),
    createdAt: createdAt(),
  },
  (t) => [
    check('messages_not_to_self', sql`${t.senderId} <> ${t.recipientId}`),
    // A conversation is the unordered pair; history and the conversation list walk this index.
    index('messages_conversation_idx').on(
      sql`least(${t.senderId}, ${t.recipientId})`,
      sql`greatest(${t.senderId}, ${t.recipientId})`,
      t.createdAt.desc(),
      t.id.desc(),
    ),
    index('messages_sender_idx').on(t.senderId),
    index('messages_recipient_unread_idx').on(t.recipientId, t.senderId).where(sql`read_at IS NULL`),
  ],
);
