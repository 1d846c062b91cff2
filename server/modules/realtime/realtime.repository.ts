import { type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db';

export interface MessageRow {
  id: string;
  from: string;
  to: string;
  body: string;
  createdAt: Date;
  readAt: Date | null;
}

export interface NotificationRow {
  id: string;
  userId: string;
  type: string;
  payload: Record<string, unknown>;
  createdAt: Date;
  readAt: Date | null;
}

export interface ConversationRow {
  otherId: string;
  lastMessage: MessageRow;
  unreadCount: number;
}

const messageColumns = (alias: string) =>
  sql.raw(
    `${alias}.id, ${alias}.sender_id AS "from", ${alias}.recipient_id AS "to", ${alias}.body, ` +
      `${alias}.created_at AS "createdAt", ${alias}.read_at AS "readAt"`,
  );
const notificationColumns = sql.raw(`id, user_id AS "userId", type, payload, created_at AS "createdAt", read_at AS "readAt"`);
// Matches the expression index messages_conversation_idx (the unordered pair).
const samePair = (a: string, b: string) =>
  sql`least(sender_id, recipient_id) = least(${a}::uuid, ${b}::uuid) AND greatest(sender_id, recipient_id) = greatest(${a}::uuid, ${b}::uuid)`;

async function rows<T>(db: DbOrTx, query: SQL): Promise<T[]> {
  return (await db.execute(query)).rows as unknown as T[];
}

/**
 * Inserts the message and `pg_notify`s its id in the same statement, so the fan-out sees it
 * only once committed. A recipient that does not exist fails the foreign key (23503).
 */
export async function insertMessageAndNotify(
  db: DbOrTx,
  values: { senderId: string; recipientId: string; body: string },
  channel: string,
): Promise<MessageRow> {
  const [row] = await rows<MessageRow>(
    db,
    sql`WITH m AS (
          INSERT INTO messages (sender_id, recipient_id, body)
          VALUES (${values.senderId}::uuid, ${values.recipientId}::uuid, ${values.body})
          RETURNING *
        )
        SELECT ${messageColumns('m')},
               pg_notify(${channel}, json_build_object('id', m.id, 'users', json_build_array(m.sender_id, m.recipient_id))::text)
        FROM m`,
  );
  return row!;
}

export function findMessagesByIds(db: DbOrTx, ids: string[]): Promise<MessageRow[]> {
  return rows(
    db,
    sql`SELECT ${messageColumns('m')} FROM messages m WHERE m.id = ANY(${sql.param(ids)}::uuid[]) ORDER BY m.created_at, m.id`,
  );
}

export async function messageInConversation(db: DbOrTx, id: string, me: string, other: string): Promise<boolean> {
  const found = await rows(db, sql`SELECT 1 FROM messages WHERE id = ${id}::uuid AND ${samePair(me, other)}`);
  return found.length > 0;
}

/** Newest first, strictly older than the `cursor` message (keyset on created_at, id). */
export function messageHistory(db: DbOrTx, me: string, other: string, cursor: string | undefined, limit: number): Promise<MessageRow[]> {
  const after = cursor ? sql`AND (m.created_at, m.id) < (SELECT created_at, id FROM messages WHERE id = ${cursor}::uuid)` : sql``;
  return rows(
    db,
    sql`SELECT ${messageColumns('m')} FROM messages m
        WHERE ${samePair(me, other)} ${after}
        ORDER BY least(sender_id, recipient_id), greatest(sender_id, recipient_id), m.created_at DESC, m.id DESC
        LIMIT ${limit}`,
  );
}

/** The caller's conversations, most recent first, with the last message and what is unread. */
export async function conversationsOf(db: DbOrTx, me: string, limit: number): Promise<ConversationRow[]> {
  const found = await rows<MessageRow & { otherId: string; unreadCount: number }>(
    db,
    sql`WITH last AS (
          SELECT DISTINCT ON (other_id) *
          FROM (
            SELECT CASE WHEN sender_id = ${me}::uuid THEN recipient_id ELSE sender_id END AS other_id, m.*
            FROM messages m WHERE m.sender_id = ${me}::uuid OR m.recipient_id = ${me}::uuid
          ) mine
          ORDER BY other_id, created_at DESC, id DESC
        ),
        unread AS (
          SELECT sender_id, count(*)::int AS n FROM messages
          WHERE recipient_id = ${me}::uuid AND read_at IS NULL GROUP BY sender_id
        )
        SELECT ${messageColumns('last')}, last.other_id AS "otherId", coalesce(unread.n, 0) AS "unreadCount"
        FROM last
        LEFT JOIN unread ON unread.sender_id = last.other_id
        ORDER BY last.created_at DESC, last.id DESC
        LIMIT ${limit}`,
  );
  return found.map(({ otherId, unreadCount, ...message }) => ({ otherId, unreadCount, lastMessage: message }));
}

export async function markConversationRead(db: DbOrTx, me: string, other: string): Promise<number> {
  const result = await db.execute(
    sql`UPDATE messages SET read_at = now() WHERE recipient_id = ${me}::uuid AND sender_id = ${other}::uuid AND read_at IS NULL`,
  );
  return result.rowCount ?? 0;
}

export async function insertNotification(
  db: DbOrTx,
  values: { userId: string; type: string; payload: Record<string, unknown> },
): Promise<NotificationRow> {
  const [row] = await rows<NotificationRow>(
    db,
    sql`INSERT INTO notifications (user_id, type, payload)
        VALUES (${values.userId}::uuid, ${values.type}, ${JSON.stringify(values.payload)}::jsonb)
        RETURNING ${notificationColumns}`,
  );
  return row!;
}

export function findNotificationsByIds(db: DbOrTx, ids: string[]): Promise<NotificationRow[]> {
  return rows(db, sql`SELECT ${notificationColumns} FROM notifications WHERE id = ANY(${sql.param(ids)}::uuid[]) ORDER BY created_at, id`);
}

export async function notificationOf(db: DbOrTx, id: string, userId: string): Promise<boolean> {
  const found = await rows(db, sql`SELECT 1 FROM notifications WHERE id = ${id}::uuid AND user_id = ${userId}::uuid`);
  return found.length > 0;
}

export function listNotifications(db: DbOrTx, userId: string, cursor: string | undefined, limit: number): Promise<NotificationRow[]> {
  const after = cursor ? sql`AND (created_at, id) < (SELECT created_at, id FROM notifications WHERE id = ${cursor}::uuid)` : sql``;
  return rows(
    db,
    sql`SELECT ${notificationColumns} FROM notifications
        WHERE user_id = ${userId}::uuid ${after}
        ORDER BY created_at DESC, id DESC
        LIMIT ${limit}`,
  );
}

export async function markNotificationRead(db: DbOrTx, id: string, userId: string): Promise<NotificationRow | undefined> {
  const [row] = await rows<NotificationRow>(
    db,
    sql`UPDATE notifications SET read_at = coalesce(read_at, now())
        WHERE id = ${id}::uuid AND user_id = ${userId}::uuid
        RETURNING ${notificationColumns}`,
  );
  return row;
}
