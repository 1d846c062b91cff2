import { z } from 'zod';
import {
  ConversationsQuery,
  ConversationsResponse,
  MarkReadBody,
  MarkReadResponse,
  MessageHistoryQuery,
  MessageHistoryResponse,
  NotificationResponse,
  NotificationsQuery,
  NotificationsResponse,
  WsStats,
} from '../../../shared/contracts';
import type { Db } from '../../db';
import { defineRoute, errors, json, noStore, type Route, reply } from '../../lib/http/define-route';
import { uuidParam } from '../../lib/validate';
import * as service from './realtime.service';
import type { WsStatsRecorder } from './ws-stats';

const NO_STORE = { 'Cache-Control': 'no-store' };

export function realtimeRoutes(deps: { db: Db; stats: WsStatsRecorder }): Route[] {
  const { db } = deps;
  return [
    defineRoute({
      operationId: 'getWsStats',
      method: 'get',
      path: '/api/health/ws-stats',
      tag: 'health',
      // Instance counters: for operators, like the detailed health (ops token).
      summary: 'WebSocket connection and message counters of this instance',
      auth: 'ops',
      limit: ['reads'],
      responses: { 200: json('Counters since the instance started', WsStats, noStore) },
      handler: async () => reply(200, deps.stats.snapshot(), NO_STORE),
    }),

    defineRoute({
      operationId: 'listMessages',
      method: 'get',
      path: '/api/messages',
      tag: 'realtime',
      summary: 'Chat history with one user, newest first',
      auth: 'user',
      limit: ['reads'],
      query: MessageHistoryQuery,
      responses: {
        200: json('One page of messages', MessageHistoryResponse, noStore),
        400: errors('The cursor does not belong to this conversation', 'invalid_cursor'),
      },
      handler: async ({ user, query }) => reply(200, await service.messageHistory(db, user.id, query), NO_STORE),
    }),

    defineRoute({
      operationId: 'markConversationRead',
      method: 'post',
      path: '/api/messages/read',
      tag: 'realtime',
      summary: 'Mark every message from one user to me read',
      auth: 'user',
      limit: ['writes'],
      body: MarkReadBody,
      responses: { 200: json('How many messages changed', MarkReadResponse) },
      handler: async ({ user, body }) => reply(200, { updated: await service.markConversationRead(db, user.id, body.with) }),
    }),

    defineRoute({
      operationId: 'listConversations',
      method: 'get',
      path: '/api/conversations',
      tag: 'realtime',
      summary: 'My conversations with last message and unread count',
      auth: 'user',
      limit: ['reads'],
      query: ConversationsQuery,
      responses: { 200: json('Most recent conversation first', ConversationsResponse, noStore) },
      handler: async ({ user, query }) => reply(200, { conversations: await service.conversations(db, user.id, query.limit) }, NO_STORE),
    }),

    defineRoute({
      operationId: 'listNotifications',
      method: 'get',
      path: '/api/notifications',
      tag: 'realtime',
      summary: 'My notifications, newest first',
      auth: 'user',
      limit: ['reads'],
      query: NotificationsQuery,
      responses: {
        200: json('One page of notifications', NotificationsResponse, noStore),
        400: errors('The cursor is not one of my notifications', 'invalid_cursor'),
      },
      handler: async ({ user, query }) => reply(200, await service.listNotifications(db, user.id, query), NO_STORE),
    }),

    defineRoute({
      operationId: 'markNotificationRead',
      method: 'post',
      path: '/api/notifications/:id/read',
      tag: 'realtime',
      summary: 'Mark a notification read',
      auth: 'user',
      limit: ['writes'],
      params: z.object({ id: uuidParam }),
      responses: {
        200: json('The notification', NotificationResponse),
        404: errors("No such notification of mine (someone else's is a 404 too)", 'not_found'),
      },
      handler: async ({ user, params }) => reply(200, { notification: await service.markNotificationRead(db, user.id, params.id) }),
    }),
  ];
}
