import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { RawData } from 'ws';
import { CLIENT_FRAME_TYPES, ClientFrame, type ErrorFrame, type ServerFrame } from '../../../shared/contracts';
import type { Db } from '../../db';
import { AppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Connection } from './connection-registry';
import { sendMessage } from './realtime.service';
import type { SessionGuard } from './session-guard';
import type { WsStatsRecorder } from './ws-stats';

export interface FrameHandler {
  handle(connection: Connection, data: RawData, isBinary: boolean): Promise<void>;
}

type ErrorCode = ErrorFrame['code'];
const MAX_QUEUED_FRAMES = 64;

/**
 * Turns client frames into actions. Whatever a client sends, it gets an answer on the same
 * connection (an ack or an `error` frame) and the connection stays open.
 */
export function createFrameHandler(deps: {
  db: Db;
  logger: Logger;
  stats: WsStatsRecorder;
  sessionGuard: SessionGuard;
  messagesPerMinute: number;
}): FrameHandler {
  const { db, logger, stats, sessionGuard } = deps;
  // Per user over all their sockets on this instance (more tabs buy no more frames). In memory,
  // so per instance: a user spreading sockets over N instances gets N budgets. Never reset on a
  // socket's close, or closing and reopening would refill it.
  const limiter = new RateLimiterMemory({ points: deps.messagesPerMinute, duration: 60 });

  const send = (connection: Connection, frame: ServerFrame) => {
    if (connection.socket.readyState !== connection.socket.OPEN) return;
    connection.socket.send(JSON.stringify(frame));
    stats.frameSent();
  };
  const fail = (connection: Connection, code: ErrorCode, message: string, extra: { clientId?: string; details?: unknown } = {}) => {
    stats.frameErrored();
    send(connection, { type: 'error', code, message, ...extra });
  };

  async function processFrame(connection: Connection, data: RawData, isBinary: boolean): Promise<void> {
    let allowed: boolean;
    try {
      allowed = await sessionGuard.allows(connection);
    } catch (error) {
      logger.error(`[WS] Session check before a frame failed: ${(error as Error).message}`);
      return fail(connection, 'internal', 'Could not process the frame; try again');
    }
    // The session ended (the socket is closing with 4401): nothing it sent is acted on.
    if (!allowed) return;
    try {
      await limiter.consume(connection.userId);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      return fail(connection, 'rate_limited', `Too many messages; try again in ${seconds} s`, { details: { retryAfterSeconds: seconds } });
    }
    if (isBinary) return fail(connection, 'invalid_json', 'Frames must be JSON text');
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
    } catch {
      return fail(connection, 'invalid_json', 'Frame is not valid JSON');
    }
    const type = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as { type?: unknown }).type : undefined;
    const clientIdValue = raw && typeof raw === 'object' ? (raw as { clientId?: unknown }).clientId : undefined;
    const clientId = typeof clientIdValue === 'string' && clientIdValue.length <= 64 ? clientIdValue : undefined;
    if (typeof type !== 'string' || !(CLIENT_FRAME_TYPES as readonly string[]).includes(type)) {
      return fail(connection, 'unknown_type', `Unknown frame type; expected one of: ${CLIENT_FRAME_TYPES.join(', ')}`, { clientId });
    }
    const parsed = ClientFrame.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String), code: i.code, message: i.message }));
      const first = issues[0]!;
      return fail(connection, 'validation_failed', `Invalid frame: ${first.path.join('.')}: ${first.message}`, {
        clientId,
        details: { issues },
      });
    }
    const frame = parsed.data;
    try {
      // The one client frame type today; the union makes a new one a compile error here.
      const message = await sendMessage(db, connection.userId, frame);
      send(connection, { type: 'message.ack', clientId: frame.clientId, messageId: message.id });
    } catch (error) {
      if (error instanceof AppError) return fail(connection, error.code as ErrorCode, error.message, { clientId });
      logger.error(`[WS] ${frame.type} failed: ${(error as Error).message}`);
      fail(connection, 'internal', 'Could not process the frame; try again', { clientId });
    }
  }

  // One frame at a time per connection: what a tab sends is persisted (and delivered) in order.
  const queues = new WeakMap<Connection, { tail: Promise<void>; depth: number }>();

  return {
    handle(connection, data, isBinary) {
      stats.frameReceived();
      let queue = queues.get(connection);
      if (!queue) {
        queue = { tail: Promise.resolve(), depth: 0 };
        queues.set(connection, queue);
      }
      // A client flooding faster than frames are processed is told so instead of queueing without bound.
      if (queue.depth >= MAX_QUEUED_FRAMES) {
        fail(connection, 'rate_limited', 'Too many frames in flight; wait for the answers');
        return Promise.resolve();
      }
      const current = queue;
      current.depth++;
      current.tail = current.tail
        .then(() => processFrame(connection, data, isBinary))
        .catch((error: Error) => void logger.error(`[WS] Frame handling failed: ${error.message}`))
        .finally(() => {
          current.depth--;
        });
      return current.tail;
    },
  };
}
