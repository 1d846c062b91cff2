import { decorrelatedJitterGenerator, ExponentialBackoff, handleAll, retry } from 'cockatiel';
import { type SQL, sql } from 'drizzle-orm';
import type pg from 'pg';
import type { Logger } from './logger';

/** Something that can run `pg_notify`: a pg Pool/PoolClient, or a Drizzle database or transaction. */
export type NotifyExecutor = { query(text: string, values: unknown[]): Promise<unknown> } | { execute(query: SQL): Promise<unknown> };

export type NotificationHandler = (payload: string) => void | Promise<void>;

export type Subscription = (() => void) & { ready: Promise<void> };

export interface PgListenerOptions {
  /** node-postgres or Neon Pool (same API); one client is checked out of it for good. */
  pool: pg.Pool;
  logger: Logger;
  /** Log tag and the listener connection's `application_name` suffix. */
  label: string;
  /** Scale of the first reconnect delay; grows exponentially (decorrelated jitter) up to `maxBackoffMs`. */
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
  /**
   * Subscribes `handler` to `channel`; returns an unsubscribe function whose `ready` resolves
   * once the connection LISTENs (a NOTIFY committed before that is not heard).
   */
  listen(channel: string, handler: NotificationHandler): Subscription;
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
 * connection is held (never returned to the pool) and, when it drops, replaced (cockatiel retry,
 * capped exponential backoff with decorrelated jitter) and every channel listened again: a
 * database blip must not silently end a subscription.
 */
export function createPgListener(options: PgListenerOptions): PgListener {
  const { pool, logger, label } = options;
  const initialBackoffMs = options.initialBackoffMs ?? 200;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  const keepAliveMs = options.keepAliveMs ?? 30_000;
  const handlers = new Map<string, Set<NotificationHandler>>();
  const channelReady = new Map<string, Promise<void>>();
  const reconnectHooks: Array<() => void> = [];
  let client: pg.PoolClient | undefined;
  let running = false;
  let everConnected = false;
  let reconnects = 0;
  let received = 0;
  let keepAliveTimer: NodeJS.Timeout | undefined;
  /** The connect attempt in progress (stop waits for it, never for a backoff delay). */
  let connecting: Promise<void> | undefined;
  /** Aborts the retry loop that is (re)connecting, if any. */
  let connectLoop: AbortController | undefined;
  // Retries until connected or stopped. cockatiel's delay does not listen to the signal, so the
  // timer is unref'd (like the old hand-rolled timer) and an attempt after stop() returns at once.
  const reconnectPolicy = retry(handleAll, {
    maxAttempts: Number.POSITIVE_INFINITY,
    backoff: new ExponentialBackoff({ generator: decorrelatedJitterGenerator, initialDelay: initialBackoffMs, maxDelay: maxBackoffMs }),
  }).dangerouslyUnref();

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
      void connectWithRetry();
    }
  };

  /** One attempt: resolves connected (or released, when stopped meanwhile), rejects on failure. */
  const connectOnce = async () => {
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
      throw error;
    }
  };

  /**
   * Starts the retry loop unless one runs; resolves once its first attempt has settled (so
   * `start` reports a first failure by logging, and keeps retrying in the background).
   */
  function connectWithRetry(): Promise<void> {
    if (connectLoop) return connecting ?? Promise.resolve();
    const loop = new AbortController();
    connectLoop = loop;
    let firstSettled!: () => void;
    const first = new Promise<void>((resolve) => {
      firstSettled = resolve;
    });
    reconnectPolicy
      .execute(async ({ signal }) => {
        if (signal.aborted || !running) return;
        connecting = connectOnce();
        try {
          await connecting;
        } finally {
          connecting = undefined;
          firstSettled();
        }
      }, loop.signal)
      // Only reached when stopped while failing; the failure was logged by its attempt.
      .catch(() => undefined)
      .finally(() => {
        if (connectLoop === loop) connectLoop = undefined;
        firstSettled();
      });
    return first;
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
        // Not connected yet: the connection LISTENs to every channel before it counts as up.
        const listening = client?.query(`LISTEN "${channel}"`);
        channelReady.set(
          channel,
          listening
            ? listening.then(
                () => undefined,
                (error: Error) => dropClient(error.message),
              )
            : Promise.resolve(),
        );
      }
      set.add(handler);
      const ready = channelReady.get(channel) ?? Promise.resolve();
      const unsubscribe = () => {
        set.delete(handler);
        if (set.size === 0 && handlers.get(channel) === set) {
          handlers.delete(channel);
          channelReady.delete(channel);
          client?.query(`UNLISTEN "${channel}"`).catch(() => undefined);
        }
      };
      return Object.assign(unsubscribe, { ready });
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
      await connectWithRetry();
    },
    async stop() {
      running = false;
      connectLoop?.abort();
      connectLoop = undefined;
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
