import connectPgSimple from 'connect-pg-simple';
import session, { type SessionData } from 'express-session';
import type pg from 'pg';
import type { Role } from '../../../shared/enums';
import type { Clock } from '../../lib/clock';

const PgStore = connectPgSimple(session);

declare module 'express-session' {
  interface SessionData {
    userId: string;
    role: Role;
    /** When the stored row was last written (ms, injected clock): drives touch-after. */
    lastWrittenAt: number;
  }
}

export interface TouchAfterStoreOptions {
  pool: pg.Pool;
  clock: Clock;
  ttlSeconds: number;
  touchAfterSeconds: number;
  onError: (message: string, error: unknown) => void;
  /** Deletes a session and announces its end (logout, and the old id on every regeneration). */
  destroySession: (sid: string) => Promise<void>;
}

/**
 * connect-pg-simple with connect-mongo's `touchAfter`: express-session calls `touch` on every
 * unmodified request, and the stock store answers each with an UPDATE. Here a touch writes only
 * when the row is older than `touchAfterSeconds`; the TTL (days) dwarfs the delay (hours), so
 * an active session never expires early.
 */
export class TouchAfterStore extends PgStore {
  readonly writes = { set: 0, touchWritten: 0, touchSkipped: 0 };
  private readonly clock: Clock;
  private readonly touchAfterMs: number;
  private readonly destroySession: (sid: string) => Promise<void>;

  constructor(options: TouchAfterStoreOptions) {
    super({
      pool: options.pool,
      tableName: 'session_store',
      // The table comes from a migration: creating it here reads table.sql at run time and races between instances.
      createTableIfMissing: false,
      ttl: options.ttlSeconds,
      // Pruning is a periodic job (one instance per tick), not a timer in every instance.
      pruneSessionInterval: false,
      errorLog: (...args: unknown[]) => options.onError(String(args[0]), args[1]),
    });
    this.clock = options.clock;
    this.touchAfterMs = options.touchAfterSeconds * 1000;
    this.destroySession = options.destroySession;
  }

  /** express-session calls this on `destroy` and on `regenerate`: the end must reach open WebSockets too. */
  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.destroySession(sid).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  /** Deletes expired sessions. */
  prune(): Promise<void> {
    return new Promise((resolve, reject) => this.pruneSessions((error?: Error) => (error ? reject(error) : resolve())));
  }

  override set(sid: string, sess: SessionData, callback?: (err?: unknown) => void): void {
    this.writes.set++;
    // Stamped on a copy: changing the live session after an explicit save() would make
    // express-session see it as modified and write it a second time at the end of the request.
    super.set(sid, { ...sess, lastWrittenAt: this.clock.now() }, callback);
  }

  override touch(sid: string, sess: SessionData, callback?: () => void): void {
    const last = typeof sess.lastWrittenAt === 'number' ? sess.lastWrittenAt : 0;
    if (this.clock.now() - last < this.touchAfterMs) {
      this.writes.touchSkipped++;
      callback?.();
      return;
    }
    this.writes.touchWritten++;
    this.set(sid, sess, callback);
  }
}
