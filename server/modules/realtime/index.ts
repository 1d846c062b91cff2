import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import type { NotificationView, WsStats } from '../../../shared/contracts';
import type { UnitOfWork } from '../../db';
import type { AppModule, ModuleContext } from '../../lib/module';
import type { PgListener } from '../../lib/pg-listener';
import type { SessionWatch } from '../auth';
import { createFanout } from './fanout';
import { createFrameHandler } from './frame-handler';
import { findMessagesByIds, findNotificationsByIds } from './realtime.repository';
import { realtimeRoutes } from './realtime.routes';
import {
  createNotification,
  MESSAGE_CHANNEL,
  type NewNotification,
  NOTIFICATION_CHANNEL,
  toMessageView,
  toNotificationView,
} from './realtime.service';
import { createWsServer } from './ws-server';
import { WsStatsRecorder } from './ws-stats';

export type { NewNotification } from './realtime.service';

export interface RealtimeModule extends AppModule {
  /**
   * Persists a notification for `userId` inside the caller's unit of work; it is pushed to the
   * user's open connections (on any instance) only once that transaction commits.
   */
  notify(unit: UnitOfWork, notification: NewNotification): Promise<NotificationView>;
  wsStats(): WsStats;
}

export function createRealtimeModule(
  context: ModuleContext,
  deps: {
    sessionMiddleware: RequestHandler;
    /** Session ends and expiries: a socket lives no longer than the session it was opened with. */
    sessions: SessionWatch;
    /** The app's shared LISTEN/NOTIFY connection (started and stopped by the app). */
    listener: PgListener;
    /** The client's address by the app's trust-proxy rule. */
    clientIpOf(req: IncomingMessage): string | undefined;
  },
): RealtimeModule {
  const { config, logger, database, metrics } = context;
  const stats = new WsStatsRecorder(metrics);
  const ws = createWsServer({
    config,
    logger,
    stats,
    sessionMiddleware: deps.sessionMiddleware,
    sessions: deps.sessions,
    clientIpOf: deps.clientIpOf,
    onFrame: (connection, data, isBinary) => frames.handle(connection, data, isBinary),
  });
  const frames = createFrameHandler({
    db: database.db,
    logger,
    stats,
    sessionGuard: ws.sessionGuard,
    messagesPerMinute: config.WS_MESSAGES_PER_MIN,
  });
  const broadcast = (users: readonly string[], frame: object) => stats.frameSent(ws.registry.sendToUsers(users, JSON.stringify(frame)));
  const { listener } = deps;
  // Events committed while the listener was reconnecting were never seen here.
  listener.onReconnect(() => {
    broadcast([...new Set([...ws.registry.connections()].map((c) => c.userId))], { type: 'resync' });
    void ws.sessionGuard.checkNow();
  });
  const wanted = (users: readonly string[]) => ws.registry.hasAny(users);
  listener.listen(
    MESSAGE_CHANNEL,
    createFanout({
      label: 'message',
      logger,
      wanted,
      load: (ids) => findMessagesByIds(database.db, ids),
      deliver: (row) => broadcast([row.from, row.to], { type: 'message.new', message: toMessageView(row) }),
    }),
  );
  listener.listen(
    NOTIFICATION_CHANNEL,
    createFanout({
      label: 'notification',
      logger,
      wanted,
      load: (ids) => findNotificationsByIds(database.db, ids),
      deliver: (row) => broadcast([row.userId], { type: 'notification', notification: toNotificationView(row) }),
    }),
  );

  return {
    name: 'realtime',
    notify: (unit, notification) => createNotification(unit, listener, notification),
    wsStats: () => stats.snapshot(),
    routes: realtimeRoutes({ db: database.db, stats }),
    attach(server) {
      ws.attach(server);
    },
    health() {
      const listening = listener.stats();
      // Without the listener nothing is delivered, though HTTP history still works.
      return { status: listening.connected ? 'ok' : 'degraded', listener: listening, ...stats.snapshot() };
    },
    async beginShutdown() {
      await ws.shutdown();
    },
    async stop() {
      ws.stop();
    },
  };
}
