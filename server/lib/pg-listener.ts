import { type SQL, sql } from 'drizzle-orm';
import type pg from 'pg';
import type { Logger } from './logger';

/** Something that can run `pg_notify`: a pg Pool/PoolClient, or a Drizzle database or transaction. */
export type NotifyExecutor = { query(text: string, values: unknown[]): Promise<unknown> } | { execute(query: SQL): Promise<unknown> };

export type NotificationHandler = (payload: string) => void | Promise<void>;

export interface PgListenerOptions {
  /** node-postgres or Neon Pool (same API); one client is checked out of it for good. */
  pool: pg.Pool;
  logger: Logger;
  /** Log tag and the listener connection's `application_name` suffix. */
  label: string;
  /** First reconnect delay; doubles per failed attempt up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A `SELECT 1` on the idle connection, so a silently dead link is noticed (0: off). */
  keepAliveMs?: number;
  /**
   * Called after the connection was lost and re-established (channels listened again).
   * Notifications sent in the gap are lost: consumers use this to resync (flush a cache,
   * tell clients to refetch).
   */
  onReconnect?: () => void;
}

export interface PgListener {
  /** Adds a resync hook (like the `onReconnect` option); several consumers may share one listener. */
  onReconnect(hook: () => void): void;
  /** Subscribes `handler` to `channel`; returns an unsubscribe function. */
  listen(channel: string, handler: NotificationHandler): () => void;
  /**
   * `pg_notify(channel, payload)`. Pass the caller's transaction as `executor` and the
   * notification is delivered only if (and when) that transaction commits.
   */
  publish(channel: string, payload: string, executor?: NotifyExecutor): Promise<void>;
  /** Connects (retrying in the background when the database is not there yet). */
  start(): Promise<void>;
  stop(): Promise<void>;
  isConnected(): boolean;
  stats(): { connected: boolean; channels: number; reconnects: number; received: number };
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;
// Postgres rejects NOTIFY payloads of 8000 bytes or more.
const MAX_PAYLOAD_BYTES = 7_999;

function checkChannel(channel: string): void {
  if (!CHANNEL.test(channel)) throw new Error(`Invalid channel name "${channel}" (lower-case letters, digits and _ only)`);
}

/**
 * Postgres LISTEN/NOTIFY on one dedicated connection. LISTEN is tied to a session, so the
 * connection is held (never returned to the pool) and, when it drops, replaced with backoff
 * and every channel listened again: a database blip must not silently end a subscription.
 */
export function createPgListener(options: PgListenerOptions): PgListener {
  const { pool, logger, label } = options;
  const initialBackoffMs = options.initialBackoffMs ?? 200;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  const keepAliveMs = options.keepAliveMs ?? 30_000;
  const handlers = new Map<string, Set<NotificationHandler>>();
  const reconnectHooks: Array<() => void> = [];
  let client: pg.PoolClient | undefined;
  let running = false;
  let everConnected = false;
  let attempt = 0;
  let reconnects = 0;
  let received = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let keepAliveTimer: NodeJS.Timeout | undefined;
  let connecting: Promise<void> | undefined;

  const dispatch = (message: pg.Notification) => {
    received++;
    const set = handlers.get(message.channel);
    if (!set) return;
    for (const handler of set) {
      try {
        Promise.resolve(handler(message.payload ?? '')).catch((error: Error) =>
          logger.error(`[${label}] Handler for ${message.channel} failed: ${error.message}`),
        );
      } catch (error) {
        logger.error(`[${label}] Handler for ${message.channel} failed: ${(error as Error).message}`);
      }
    }
  };

  const dropClient = (reason: string) => {
    const lost = client;
    if (!lost) return;
    client = undefined;
    clearInterval(keepAliveTimer);
    lost.removeListener('notification', dispatch);
    // Destroy rather than return it: a pooled connection must not keep LISTENing.
    lost.release(new Error(reason));
    if (running) {
      logger.warn(`[${label}] Listener connection lost (${reason}); reconnecting`);
      scheduleConnect();
    }
  };

  const connect = async () => {
    let fresh: pg.PoolClient | undefined;
    try {
      fresh = await pool.connect();
      fresh.on('notification', dispatch);
      const onLost = (error?: Error) => {
        if (client === fresh) dropClient(error?.message ?? 'connection ended');
      };
      // `on`, not `once`: a second error on a dead client must not be unhandled (a crash).
      fresh.on('error', onLost);
      fresh.on('end', () => onLost());
      // Lets operators (and tests) find this connection in pg_stat_activity.
      await fresh.query(`SET application_name = '${label.toLowerCase().replace(/[^a-z0-9_-]/g, '-')}-listener'`);
      for (const channel of handlers.keys()) await fresh.query(`LISTEN "${channel}"`);
      if (!running) {
        fresh.release(true);
        return;
      }
      client = fresh;
      attempt = 0;
      if (everConnected) {
        reconnects++;
        logger.info(`[${label}] Listener reconnected (${handlers.size} channels)`);
        options.onReconnect?.();
        for (const hook of reconnectHooks) hook();
      }
      everConnected = true;
      if (keepAliveMs > 0) {
        keepAliveTimer = setInterval(() => {
          client?.query('SELECT 1').catch((error: Error) => dropClient(error.message));
        }, keepAliveMs);
        keepAliveTimer.unref();
      }
    } catch (error) {
      fresh?.removeListener('notification', dispatch);
      fresh?.release(error as Error);
      logger.warn(`[${label}] Listener could not connect: ${(error as Error).message}`);
      if (running) scheduleConnect();
    }
  };

  function scheduleConnect() {
    if (retryTimer || !running) return;
    const delay = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(attempt, 16));
    attempt++;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connecting = connect();
    }, delay);
    retryTimer.unref();
  }

  return {
    onReconnect(hook) {
      reconnectHooks.push(hook);
    },
    listen(channel, handler) {
      checkChannel(channel);
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        client?.query(`LISTEN "${channel}"`).catch((error: Error) => dropClient(error.message));
      }
      set.add(handler);
      return () => {
        set.delete(handler);
        if (set.size === 0 && handlers.get(channel) === set) {
          handlers.delete(channel);
          client?.query(`UNLISTEN "${channel}"`).catch(() => undefined);
        }
      };
    },
    async publish(channel, payload, executor) {
      checkChannel(channel);
      if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) throw new Error(`NOTIFY payload too large for ${channel}`);
      const target = executor ?? pool;
      if ('execute' in target) await target.execute(sql`SELECT pg_notify(${channel}, ${payload})`);
      else await target.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async start() {
      if (running) return;
      running = true;
      connecting = connect();
      await connecting;
    },
    async stop() {
      running = false;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      await connecting;
      const held = client;
      client = undefined;
      clearInterval(keepAliveTimer);
      if (held) {
        held.removeListener('notification', dispatch);
        held.release(true);
      }
    },
    isConnected: () => client !== undefined,
    stats: () => ({ connected: client !== undefined, channels: handlers.size, reconnects, received }),
  };
}
