import { Router } from 'express';
import { z } from 'zod';
import { ConversationsQuery, MarkReadBody, MessageHistoryQuery, NotificationsQuery } from '../../../shared/contracts';
import type { Db } from '../../db';
import { validateRequest, uuidParam } from '../../lib/validate';
import { mustBeSignedIn } from '../auth';
import * as service from './realtime.service';
import type { WsStatsRecorder } from './ws-stats';

export function realtimeRouter(deps: { db: Db; stats: WsStatsRecorder }): Router {
  const router = Router();
  const { db } = deps;

  // Instance counters, public like the other health endpoints (no user data in them).
  router.get('/health/ws-stats', (_req, res) => {
    res.set('Cache-Control', 'no-store').json(deps.stats.snapshot());
  });

  router.get('/messages', async (req, res) => {
    const me = mustBeSignedIn(req);
    const { query } = validateRequest(req, { query: MessageHistoryQuery });
    res.set('Cache-Control', 'no-store').json(await service.messageHistory(db, me.id, query));
  });

  router.post('/messages/read', async (req, res) => {
    const me = mustBeSignedIn(req);
    const { body } = validateRequest(req, { body: MarkReadBody });
    res.json({ updated: await service.markConversationRead(db, me.id, body.with) });
  });

  router.get('/conversations', async (req, res) => {
    const me = mustBeSignedIn(req);
    const { query } = validateRequest(req, { query: ConversationsQuery });
    res.set('Cache-Control', 'no-store').json({ conversations: await service.conversations(db, me.id, query.limit) });
  });

  router.get('/notifications', async (req, res) => {
    const me = mustBeSignedIn(req);
    const { query } = validateRequest(req, { query: NotificationsQuery });
    res.set('Cache-Control', 'no-store').json(await service.listNotifications(db, me.id, query));
  });

  router.post('/notifications/:id/read', async (req, res) => {
    const me = mustBeSignedIn(req);
    const { params } = validateRequest(req, { params: z.object({ id: uuidParam }) });
    res.json({ notification: await service.markNotificationRead(db, me.id, params.id) });
  });

  return router;
}
