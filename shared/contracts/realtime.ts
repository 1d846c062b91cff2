import { z } from 'zod';
import { multilineText, plainString } from './text';

/*
 * Chat and notifications: the HTTP contract (history, conversations, notifications) and the
 * WebSocket frames at /ws (JSON text frames, each with a `type`).
 */

const Limit = z.coerce.number().int().min(1).max(100).default(50);
const Cursor = z.uuid({ message: 'must be a cursor returned by the previous page' }).toLowerCase();

export const MessageView = z.object({
  id: z.uuid(),
  from: z.uuid(),
  to: z.uuid(),
  body: z.string(),
  createdAt: z.string(),
  readAt: z.string().nullable(),
});

export const NotificationView = z.object({
  id: z.uuid(),
  type: z.string(),
  payload: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  readAt: z.string().nullable(),
});

export const ConversationView = z.object({
  with: z.object({ id: z.uuid(), name: z.string() }),
  lastMessage: MessageView,
  unreadCount: z.number().int(),
});

/** `GET /api/messages?with=&cursor=&limit=`: newest first; `nextCursor` is null on the last page. */
export const MessageHistoryQuery = z.strictObject({
  with: z.uuid({ message: 'must be a user id' }).toLowerCase(),
  cursor: Cursor.optional(),
  limit: Limit,
});
export const MessageHistoryResponse = z.object({ messages: z.array(MessageView), nextCursor: z.string().nullable() });

/** `GET /api/conversations`: most recent conversation first. */
export const ConversationsQuery = z.strictObject({ limit: Limit });
export const ConversationsResponse = z.object({ conversations: z.array(ConversationView) });

/** `POST /api/messages/read`: marks every message from `with` to the caller as read. */
export const MarkReadBody = z.strictObject({ with: z.uuid({ message: 'must be a user id' }).toLowerCase() });
export const MarkReadResponse = z.object({ updated: z.number().int() });

/** `GET /api/notifications?cursor=&limit=`: the caller's, newest first. */
export const NotificationsQuery = z.strictObject({ cursor: Cursor.optional(), limit: Limit });
export const NotificationsResponse = z.object({ notifications: z.array(NotificationView), nextCursor: z.string().nullable() });
/** `POST /api/notifications/:id/read`: the caller's own only (anyone else's is a 404). */
export const NotificationResponse = z.object({ notification: NotificationView });

/** `GET /api/health/ws-stats`: counters of this instance since it started. */
export const WsStats = z.object({
  connections: z.object({ total: z.number(), active: z.number(), peak: z.number() }),
  messages: z.object({ sent: z.number(), received: z.number(), errored: z.number() }),
  failedAuthentications: z.number(),
  heartbeatTerminations: z.number(),
});

// --- WebSocket frames -------------------------------------------------------------------

export const MESSAGE_BODY_MAX = 4_000;

/**
 * Close code of a socket whose session ended (logout, a new session id on sign-in or a role
 * change, expiry, every session of the user revoked): the 4000s are the application's own
 * range, and 4401 mirrors HTTP 401. Sign in again and reconnect.
 */
export const SESSION_ENDED_CLOSE_CODE = 4401;

/** Client → server. `clientId` is echoed in the `message.ack` (or `error`) for this frame. */
export const MessageSendFrame = z.strictObject({
  type: z.literal('message.send'),
  to: z.uuid({ message: 'must be a user id' }).toLowerCase(),
  body: multilineText(MESSAGE_BODY_MAX).min(1, 'required'),
  clientId: plainString(64).optional(),
});
export const ClientFrame = z.discriminatedUnion('type', [MessageSendFrame]);
export const CLIENT_FRAME_TYPES = ['message.send'] as const;

/** Server → client. */
export const MessageNewFrame = z.object({ type: z.literal('message.new'), message: MessageView });
export const MessageAckFrame = z.object({ type: z.literal('message.ack'), clientId: z.string().optional(), messageId: z.uuid() });
export const NotificationFrame = z.object({ type: z.literal('notification'), notification: NotificationView });
/** Events may have been missed (the instance lost its database listener for a moment): refetch. */
export const ResyncFrame = z.object({ type: z.literal('resync') });
export const ErrorFrame = z.object({
  type: z.literal('error'),
  code: z.enum([
    'invalid_json',
    'unknown_type',
    'validation_failed',
    'rate_limited',
    'recipient_not_found',
    'cannot_message_self',
    'internal',
  ]),
  message: z.string(),
  clientId: z.string().optional(),
  details: z.unknown().optional(),
});
export const ServerFrame = z.discriminatedUnion('type', [MessageNewFrame, MessageAckFrame, NotificationFrame, ResyncFrame, ErrorFrame]);

export type MessageView = z.infer<typeof MessageView>;
export type NotificationView = z.infer<typeof NotificationView>;
export type ConversationView = z.infer<typeof ConversationView>;
export type WsStats = z.infer<typeof WsStats>;
export type ClientFrame = z.infer<typeof ClientFrame>;
export type ServerFrame = z.infer<typeof ServerFrame>;
export type ErrorFrame = z.infer<typeof ErrorFrame>;
