import type { ConversationView, MessageView, NotificationView } from '../../../shared/contracts';
import { type Db, pgErrorCode, type UnitOfWork } from '../../db';
import { AppError, badRequest, notFound } from '../../lib/errors';
import type { PgListener } from '../../lib/pg-listener';
import { findUserContacts } from '../auth';
import * as repo from './realtime.repository';

/** NOTIFY channels: a committed message / notification id (and the users it concerns). */
export const MESSAGE_CHANNEL = 'realtime_message';
export const NOTIFICATION_CHANNEL = 'realtime_notification';

export interface NewNotification {
  userId: string;
  /** e.g. `order.paid`; clients switch on it. */
  type: string;
  payload?: Record<string, unknown>;
}

export const toMessageView = (row: repo.MessageRow): MessageView => ({
  id: row.id,
  from: row.from,
  to: row.to,
  body: row.body,
  createdAt: new Date(row.createdAt).toISOString(),
  readAt: row.readAt ? new Date(row.readAt).toISOString() : null,
});

export const toNotificationView = (row: repo.NotificationRow): NotificationView => ({
  id: row.id,
  type: row.type,
  payload: row.payload,
  createdAt: new Date(row.createdAt).toISOString(),
  readAt: row.readAt ? new Date(row.readAt).toISOString() : null,
});

const FOREIGN_KEY_VIOLATION = '23503';

/** Persists a chat message; every instance delivers it to both parties once it is committed. */
export async function sendMessage(db: Db, senderId: string, input: { to: string; body: string }): Promise<MessageView> {
  if (input.to === senderId) throw badRequest('cannot_message_self', 'You cannot send a message to yourself');
  try {
    return toMessageView(await repo.insertMessageAndNotify(db, { senderId, recipientId: input.to, body: input.body }, MESSAGE_CHANNEL));
  } catch (error) {
    // The recipient's foreign key answers "does this user exist" (users belong to auth).
    if (pgErrorCode(error) === FOREIGN_KEY_VIOLATION) throw new AppError(404, 'recipient_not_found', 'No such recipient');
    throw error;
  }
}

/** One page of a conversation plus the cursor of the next (older) page. */
function page<R extends { id: string }, V>(found: R[], limit: number, view: (row: R) => V) {
  const more = found.length > limit;
  const rows = more ? found.slice(0, limit) : found;
  return { items: rows.map(view), nextCursor: more ? rows[rows.length - 1]!.id : null };
}

export async function messageHistory(db: Db, me: string, query: { with: string; cursor?: string; limit: number }) {
  if (query.cursor && !(await repo.messageInConversation(db, query.cursor, me, query.with))) {
    throw badRequest('invalid_cursor', 'The cursor does not belong to this conversation');
  }
  const found = await repo.messageHistory(db, me, query.with, query.cursor, query.limit + 1);
  const { items, nextCursor } = page(found, query.limit, toMessageView);
  return { messages: items, nextCursor };
}

export async function conversations(db: Db, me: string, limit: number): Promise<ConversationView[]> {
  const found = await repo.conversationsOf(db, me, limit);
  const names = new Map(
    (
      await findUserContacts(
        db,
        found.map((c) => c.otherId),
      )
    ).map((u) => [u.id, u.name]),
  );
  return found.map((c) => ({
    with: { id: c.otherId, name: names.get(c.otherId) ?? '' },
    lastMessage: toMessageView(c.lastMessage),
    unreadCount: c.unreadCount,
  }));
}

export async function markConversationRead(db: Db, me: string, other: string): Promise<number> {
  return repo.markConversationRead(db, me, other);
}

export async function listNotifications(db: Db, me: string, query: { cursor?: string; limit: number }) {
  if (query.cursor && !(await repo.notificationOf(db, query.cursor, me))) {
    throw badRequest('invalid_cursor', 'The cursor is not one of your notifications');
  }
  const found = await repo.listNotifications(db, me, query.cursor, query.limit + 1);
  const { items, nextCursor } = page(found, query.limit, toNotificationView);
  return { notifications: items, nextCursor };
}

export async function markNotificationRead(db: Db, me: string, id: string): Promise<NotificationView> {
  const row = await repo.markNotificationRead(db, id, me);
  // Someone else's notification is indistinguishable from a missing one.
  if (!row) throw notFound('Notification');
  return toNotificationView(row);
}

/**
 * Inserts a notification and NOTIFYs its id on the caller's transaction: it is pushed only
 * if (and when) that transaction commits.
 */
export async function createNotification(unit: UnitOfWork, listener: PgListener, input: NewNotification): Promise<NotificationView> {
  const row = await repo.insertNotification(unit.tx, { userId: input.userId, type: input.type, payload: input.payload ?? {} });
  await listener.publish(NOTIFICATION_CHANNEL, JSON.stringify({ id: row.id, users: [row.userId] }), unit.tx);
  return toNotificationView(row);
}
