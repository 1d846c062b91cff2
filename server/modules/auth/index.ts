import type { Request, RequestHandler } from 'express';
import { Gauge } from 'prom-client';
import { type Database, startHealthMonitor, type HealthMonitor, type UnitOfWork } from '../../db';
import type { Role } from '../../../shared/enums';
import type { AppModule, ModuleContext } from '../../lib/module';
import type { PgListener } from '../../lib/pg-listener';
import {
  countActiveSessions,
  deleteSessionAnnounced,
  deleteUserSessionsAnnounced,
  findLiveSessionExpiries,
  raiseBuyerRole,
  SESSION_ENDED_CHANNEL,
} from './auth.repository';
import { accountRoutes } from './accounts.routes';
import { type AccountDeps, issueEmailVerification } from './accounts.service';
import { authRoutes } from './auth.routes';
import type { OnUserRegistered } from './auth.service';
import { type SessionEndHandler, SessionEndedHub } from './session-ended';
import { type SessionCookie, sessionCookieOf } from './session-cookie';
import { createSessionMiddleware } from './session-middleware';
import { TouchAfterStore } from './session-store';
import { initialiseSessionTable, type SessionTableState } from './session-table';

export { findUserContacts } from './auth.repository';
export type { OnUserRegistered } from './auth.service';
export {
  createOrPromoteAdmin,
  findUserStanding,
  requireVerifiedEmail,
  setUserSuspended,
  type UserStanding,
} from './user-standing.service';
export type { SessionEnd, SessionEndHandler } from './session-ended';
export { currentSession, currentUser, type Role, type SessionInfo, startPrivilegedSession } from './session-middleware';

/**
 * Gives a buyer a role inside the caller's unit of work (opening a store makes a vendor); an
 * admin stays an admin. Returns the role the user now has, for the caller's new session.
 */
export async function grantRole(unit: UnitOfWork, userId: string, role: Role): Promise<Role> {
  const now = await raiseBuyerRole(unit.tx, userId, role);
  if (!now) throw new Error(`user ${userId} does not exist`);
  return now;
}

/**
 * Signs a user out everywhere inside the caller's unit of work (password change, suspension):
 * their session rows go, and once the unit commits every instance closes their WebSockets.
 * Returns how many sessions were deleted.
 */
export function revokeUserSessions(unit: UnitOfWork, userId: string): Promise<number> {
  return deleteUserSessionsAnnounced(unit.tx, userId);
}

/** What the WebSocket server needs to keep a socket no longer alive than its session. */
export interface SessionWatch {
  /** Called for every session end heard on this instance, whichever instance caused it. */
  onSessionEnded(handler: SessionEndHandler): void;
  /** Expiry (ms since the epoch) of each of these sessions still live; an id missing from the answer has ended. */
  liveSessionExpiries(sessionIds: readonly string[]): Promise<Map<string, number>>;
}

export interface AuthModule extends AppModule, SessionWatch {
  /** express-session over the session pool; also used to authenticate WebSocket upgrades. */
  sessionMiddleware: RequestHandler;
  /** Whether a request carries the session cookie (SESSION_COOKIE_NAME): without one nobody is signed in. */
  hasSessionCookie(req: Request): boolean;
  store: TouchAfterStore;
  /** Deletes expired sessions (run periodically by the job queue). */
  pruneExpiredSessions(): Promise<void>;
}

export interface AuthOptions {
  /** The dedicated session pool (max 5, long connect timeout for cold starts). */
  sessionDatabase: Database;
  /** The app's LISTEN/NOTIFY connection: session ends are heard from every instance. */
  listener: PgListener;
  /** The outbox (email module): account mails are queued in the transaction that caused them. */
  enqueueEmail: AccountDeps['enqueueEmail'];
  onUserRegistered?: OnUserRegistered;
}

export function createAuthModule(context: ModuleContext, options: AuthOptions): AuthModule {
  const { config, logger, database, clock } = context;
  const { sessionDatabase } = options;
  const ended = new SessionEndedHub(logger);
  options.listener.listen(SESSION_ENDED_CHANNEL, (payload) => ended.hear(payload));
  const store = new TouchAfterStore({
    pool: sessionDatabase.pool,
    clock,
    ttlSeconds: config.SESSION_TTL,
    touchAfterSeconds: config.SESSION_TOUCH_AFTER,
    onError: (message, error) => logger.error(`[SESSION-STORE-ERROR] ${message} ${(error as Error)?.message ?? ''}`),
    async destroySession(sid) {
      // Announced here at once as well: this instance's sockets are closed before the logout answers.
      if (await deleteSessionAnnounced(sessionDatabase.db, sid)) ended.announce({ sessionId: sid });
    },
  });
  const sessionCookie: SessionCookie = sessionCookieOf(config);
  const accounts: AccountDeps = { database, clock, publicBaseUrl: config.PUBLIC_BASE_URL, enqueueEmail: options.enqueueEmail };
  // A new account gets its verification mail in the transaction that creates it.
  const onUserRegistered: OnUserRegistered = async (unit, user) => {
    await issueEmailVerification(accounts, unit, user);
    await options.onUserRegistered?.(unit, user);
  };
  const sessionMiddleware = createSessionMiddleware(config, store, sessionCookie);
  new Gauge({
    name: 'sessions_active',
    help: 'Unexpired sessions in the session store',
    registers: [context.metrics],
    async collect() {
      const count = await countActiveSessions(sessionDatabase.db).catch(() => undefined);
      if (count !== undefined) this.set(count);
    },
  });
  let table: SessionTableState | undefined;
  let monitor: HealthMonitor | undefined;

  return {
    name: 'sessions',
    sessionMiddleware,
    hasSessionCookie: (req) => sessionCookie.isIn(req.headers.cookie),
    store,
    routes: [...authRoutes({ database, sessionCookie, onUserRegistered }), ...accountRoutes(accounts)],
    pruneExpiredSessions: () => store.prune(),
    onSessionEnded: (handler) => ended.subscribe(handler),
    liveSessionExpiries: (sessionIds) => findLiveSessionExpiries(sessionDatabase.db, sessionIds),
    async start() {
      monitor = startHealthMonitor(sessionDatabase, { intervalMs: config.DB_HEALTH_INTERVAL, logger, label: 'SESSION-POOL' });
      table = initialiseSessionTable({ pool: sessionDatabase.pool, logger, retryMs: config.SESSION_INIT_RETRY_MS });
      // Waits for the first round only (ready, or three failures); later rounds run in the background.
      await table.firstRound;
    },
    // Public (readiness): the reason only; the database's own error is in the log and the ops-only health.
    notReadyReason: () => (table?.ready() ? undefined : 'session table not initialised'),
    async health() {
      const ping = await sessionDatabase.ping();
      const activeSessions = ping.ok ? await countActiveSessions(sessionDatabase.db).catch(() => undefined) : undefined;
      return {
        status: ping.ok && table?.ready() ? 'ok' : 'down',
        tableReady: table?.ready() ?? false,
        ...(table?.lastError() ? { tableError: table.lastError() } : {}),
        activeSessions,
        pool: sessionDatabase.stats(),
        latencyMs: ping.latencyMs,
        writes: { ...store.writes },
      };
    },
    async stop() {
      table?.stop();
      monitor?.stop();
      // The session pool itself belongs to whoever created it.
      await store.close();
    },
  };
}
