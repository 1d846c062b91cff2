import { performance } from 'node:perf_hooks';
import { LRUCache } from 'lru-cache';
import { SESSION_ENDED_CLOSE_CODE } from '../../../shared/contracts';
import type { Logger } from '../../lib/logger';
import type { SessionEnd, SessionWatch } from '../auth';
import type { Connection, ConnectionRegistry } from './connection-registry';

/**
 * Keeps every socket no longer alive than the session it was opened with. Ends heard from any
 * instance close the socket at once (4401); a periodic batched read of the store catches expiry
 * and rows deleted without an announcement; before a frame is acted on, only memory is asked
 * (the socket's flag and its known expiry), unless that expiry has passed.
 */
export interface SessionGuard {
  /** Closes the connection (4401) when its session ended while its upgrade was being authenticated. */
  admit(connection: Connection, lookupStartedAt: number): boolean;
  /** Whether a frame from this connection may be acted on; closes it when its session is over. Rejects when the store cannot say. */
  allows(connection: Connection): Promise<boolean>;
  /** Reads every socket's session now (after the listener reconnected: ends announced in the gap were not heard). */
  checkNow(): Promise<void>;
  start(): void;
  stop(): void;
}

// Long enough to outlast any upgrade's session lookup that started before an end was heard.
const REMEMBER_ENDS_MS = 5 * 60_000;

export function createSessionGuard(deps: {
  registry: ConnectionRegistry;
  sessions: SessionWatch;
  logger: Logger;
  checkIntervalMs: number;
}): SessionGuard {
  const { registry, sessions, logger } = deps;
  const endedSessions = new LRUCache<string, true>({ max: 100_000, ttl: REMEMBER_ENDS_MS });
  // User id → when the revocation was heard (performance.now()).
  const revokedUsers = new LRUCache<string, number>({ max: 100_000, ttl: REMEMBER_ENDS_MS });
  let timer: NodeJS.Timeout | undefined;
  let checking = false;

  const end = (connection: Connection) => {
    if (connection.ended) return;
    connection.ended = true;
    // Out of the registry now: no private message or notification reaches it while it closes.
    registry.remove(connection);
    connection.socket.close(SESSION_ENDED_CLOSE_CODE, 'Session ended');
  };

  const onEnded = (ended: SessionEnd) => {
    if ('sessionId' in ended) {
      endedSessions.set(ended.sessionId, true);
      for (const connection of registry.ofSession(ended.sessionId)) end(connection);
    } else {
      revokedUsers.set(ended.userId, performance.now());
      for (const connection of registry.ofUser(ended.userId)) end(connection);
    }
  };
  sessions.onSessionEnded(onEnded);

  /** Applies what the store said about these connections' sessions; returns whether `connections[0]` survived. */
  const applyLive = (connections: readonly Connection[], live: Map<string, number>) => {
    for (const connection of connections) {
      const expiresAt = live.get(connection.sessionId);
      if (expiresAt === undefined) end(connection);
      else connection.sessionExpiresAt = expiresAt;
    }
    return !connections[0]?.ended;
  };

  const checkAll = async () => {
    if (checking) return;
    checking = true;
    try {
      const open = [...registry.connections()].filter((c) => !c.ended);
      if (open.length === 0) return;
      applyLive(open, await sessions.liveSessionExpiries([...new Set(open.map((c) => c.sessionId))]));
    } catch (error) {
      // Sockets stay open while the store is unreachable; frames still meet their known expiry.
      logger.warn(`[WS] Session check failed: ${(error as Error).message}`);
    } finally {
      checking = false;
    }
  };

  return {
    admit(connection, lookupStartedAt) {
      const revokedAt = revokedUsers.get(connection.userId);
      if (endedSessions.has(connection.sessionId) || (revokedAt !== undefined && revokedAt >= lookupStartedAt)) end(connection);
      return !connection.ended;
    },
    async allows(connection) {
      if (connection.ended) return false;
      // Wall clock, like the store's own `expire`.
      if (Date.now() < connection.sessionExpiresAt) return true;
      // Past the expiry last read: HTTP use may have extended the session since, so the store decides.
      return applyLive([connection], await sessions.liveSessionExpiries([connection.sessionId]));
    },
    checkNow: checkAll,
    start() {
      timer = setInterval(() => void checkAll(), deps.checkIntervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
