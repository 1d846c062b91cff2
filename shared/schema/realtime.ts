// Owned by the realtime module: chat messages and notifications.
import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { users } from './auth';
import { createdAt, id, tstz } from './columns';

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
