import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { type IncomingMessage, type Server, ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Request, RequestHandler, Response } from 'express';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { originAllowedBy, trustedOrigins } from '../../lib/origin-check';
import { currentSession, type SessionInfo, type SessionWatch } from '../auth';
import { type Connection, ConnectionRegistry } from './connection-registry';
import { startHeartbeat } from './heartbeat';
import { createSessionGuard, type SessionGuard } from './session-guard';
import { SocketQuota } from './socket-quota';
import type { WsStatsRecorder } from './ws-stats';

export const WS_PATH = '/ws';
/** How long clients get to answer our close frame on shutdown before they are cut off. */
const CLOSE_GRACE_MS = 2_000;
/** A socket cap frees up when a tab closes, not at a known time: a short pause before retrying. */
const SOCKET_CAP_RETRY_AFTER_S = 10;

export interface WsServerOptions {
  config: Config;
  logger: Logger;
  stats: WsStatsRecorder;
  sessionMiddleware: RequestHandler;
  sessions: SessionWatch;
  /** The client's address by the app's trust-proxy rule (the per-address socket cap). */
  clientIpOf(req: IncomingMessage): string | undefined;
  onFrame(connection: Connection, data: RawData, isBinary: boolean): Promise<void>;
}

export interface WsServer {
  registry: ConnectionRegistry;
  sessionGuard: SessionGuard;
  attach(server: Server): void;
  /** Refuses new upgrades and closes every client with 1001 (Going Away). */
  shutdown(): Promise<void>;
  stop(): void;
}

function refuseUpgrade(socket: Duplex, status: number, code: string, message: string, retryAfterSeconds?: number): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code, message, requestId: randomUUID() } });
  const retryAfter = retryAfterSeconds === undefined ? '' : `Retry-After: ${retryAfterSeconds}\r\n`;
  // Written by hand: an upgrade request never reaches Express, so there is no response object.
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\n${retryAfter}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** Runs the app's own session middleware on the upgrade request: the same cookie, store and rules as HTTP. */
function sessionOf(sessionMiddleware: RequestHandler, req: IncomingMessage): Promise<SessionInfo | undefined> {
  return new Promise((resolve, reject) => {
    // A response that is never sent; express-session only hooks its methods.
    const res = new ServerResponse(req);
    sessionMiddleware(req as Request, res as unknown as Response, (error?: unknown) => {
      if (error) reject(error);
      else resolve(currentSession(req as Request));
    });
  });
}

function ownOrigin(req: IncomingMessage, config: Config): string {
  const forwarded =
    config.TRUST_PROXY !== false
      ? String(req.headers['x-forwarded-proto'] ?? '')
          .split(',')[0]
          ?.trim()
      : '';
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  return `${forwarded || (encrypted ? 'https' : 'http')}://${req.headers.host ?? ''}`;
}

export function createWsServer(options: WsServerOptions): WsServer {
  const { config, logger, stats } = options;
  const registry = new ConnectionRegistry();
  const sessionGuard = createSessionGuard({ registry, sessions: options.sessions, logger, checkIntervalMs: config.WS_SESSION_CHECK_MS });
  const socketsPerUser = new SocketQuota(config.WS_MAX_SOCKETS_PER_USER);
  const socketsPerIp = new SocketQuota(config.WS_MAX_SOCKETS_PER_IP);
  const originAllowed = originAllowedBy(trustedOrigins(config));
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: config.WS_MAX_PAYLOAD,
    // Small frames are cheaper sent as they are; only bodies over 1 KB are compressed.
    perMessageDeflate: { threshold: 1024 },
  });
  let shuttingDown = false;
  let nextId = 0;
  let stopHeartbeat: (() => void) | undefined;

  const accept = (socket: WebSocket, session: SessionInfo, lookupStartedAt: number) => {
    const connection: Connection = {
      id: ++nextId,
      userId: session.user.id,
      sessionId: session.sessionId,
      sessionExpiresAt: session.expiresAt,
      ended: false,
      socket,
      alive: true,
    };
    registry.add(connection);
    stats.opened();
    socket.on('pong', () => {
      connection.alive = true;
    });
    socket.on('message', (data, isBinary) => {
      options.onFrame(connection, data, isBinary).catch((error: Error) => logger.error(`[WS] Frame handling failed: ${error.message}`));
    });
    // Protocol violations (bad UTF-8, oversized frame): ws closes the connection itself.
    socket.on('error', (error) => logger.warn(`[WS] Connection ${connection.id} error: ${error.message}`));
    socket.on('close', () => {
      registry.remove(connection);
      stats.closed();
    });
    sessionGuard.admit(connection, lookupStartedAt);
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== WS_PATH) return refuseUpgrade(socket, 404, 'not_found', 'No WebSocket endpoint here');
    // A client resetting the connection while its session is looked up must not crash the process.
    const ignore = (error: Error) => logger.debug(`[WS] Upgrade socket error: ${error.message}`);
    socket.on('error', ignore);
    if (shuttingDown) return refuseUpgrade(socket, 503, 'shutting_down', 'Server is shutting down');
    if (!originAllowed(req.headers.origin, ownOrigin(req, config))) {
      logger.warn(`[WS] Upgrade refused: foreign origin ${req.headers.origin}`);
      return refuseUpgrade(socket, 403, 'foreign_origin', 'Cross-origin WebSocket refused');
    }
    // Before the session lookup, so a flood from one address costs no session reads. Slots are
    // given back when the TCP socket closes, whatever ended it (refusal, client gone, socket closed).
    const releaseIp = socketsPerIp.take(options.clientIpOf(req) ?? 'unknown');
    if (!releaseIp) {
      logger.warn('[WS] Upgrade refused: too many sockets from one address');
      return refuseUpgrade(socket, 429, 'too_many_connections', 'Too many open connections from this address', SOCKET_CAP_RETRY_AFTER_S);
    }
    socket.once('close', releaseIp);
    if (socket.destroyed) return releaseIp();
    const lookupStartedAt = performance.now();
    sessionOf(options.sessionMiddleware, req).then(
      (session) => {
        if (!session) {
          stats.authFailed();
          logger.warn('[WS] Upgrade refused: no valid session');
          return refuseUpgrade(socket, 401, 'unauthorized', 'Sign in first');
        }
        if (shuttingDown) return refuseUpgrade(socket, 503, 'shutting_down', 'Server is shutting down');
        const releaseUser = socketsPerUser.take(session.user.id);
        if (!releaseUser) {
          logger.warn(`[WS] Upgrade refused: user ${session.user.id} already holds ${config.WS_MAX_SOCKETS_PER_USER} sockets`);
          return refuseUpgrade(socket, 429, 'too_many_connections', 'Too many open connections for this account', SOCKET_CAP_RETRY_AFTER_S);
        }
        socket.once('close', releaseUser);
        // Already gone while its session was looked up: ws would drop it without a callback.
        if (socket.destroyed) return releaseUser();
        wss.handleUpgrade(req, socket, head, (ws) => {
          socket.off('error', ignore);
          accept(ws, session, lookupStartedAt);
        });
      },
      (error: Error) => {
        logger.error(`[WS] Session lookup for an upgrade failed: ${error.message}`);
        refuseUpgrade(socket, 503, 'session_unavailable', 'Sessions are unavailable; try again');
      },
    );
  };

  return {
    registry,
    sessionGuard,
    attach(server) {
      server.on('upgrade', onUpgrade);
      stopHeartbeat = startHeartbeat(registry, config.WS_HEARTBEAT_MS, () => stats.heartbeatTerminated());
      sessionGuard.start();
    },
    async shutdown() {
      shuttingDown = true;
      stopHeartbeat?.();
      sessionGuard.stop();
      const open = [...registry.connections()];
      if (open.length === 0) return;
      logger.info(`[WS] Closing ${open.length} connections (1001)`);
      const closed = open.map(
        (c) =>
          new Promise<void>((resolve) => (c.socket.readyState === WebSocket.CLOSED ? resolve() : c.socket.once('close', () => resolve()))),
      );
      for (const c of open) c.socket.close(1001, 'Server shutting down');
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), CLOSE_GRACE_MS);
      });
      if ((await Promise.race([Promise.all(closed), grace])) === 'timeout') {
        for (const c of open) c.socket.terminate();
      }
      clearTimeout(timer);
    },
    stop() {
      stopHeartbeat?.();
      sessionGuard.stop();
      for (const c of registry.connections()) c.socket.terminate();
      wss.close();
    },
  };
}
