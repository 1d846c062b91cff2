import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type pg from 'pg';

const BACKOFF_MS = [0, 1_000, 2_000];
const MIGRATIONS_PENDING = 'table session_store does not exist yet (migrations pending)';

export interface SessionTableState {
  ready(): boolean;
  lastError(): string | undefined;
  /** Resolves after the first round of attempts (ready or not). */
  firstRound: Promise<boolean>;
  stop(): void;
}

/**
 * Makes sure the session table is reachable before sessions are served: 3 attempts with
 * 0 s / 1 s / 2 s backoff (a cold-starting database usually answers within them). If all fail
 * the server keeps running, reports not ready, and tries another round every `retryMs` until
 * the database returns — no restart needed.
 */
export function initialiseSessionTable(options: { pool: pg.Pool; logger: Logger; retryMs: number; clock?: Clock }): SessionTableState {
  const { pool, logger, retryMs } = options;
  let ready = false;
  let lastError: string | undefined;
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const waits = new Set<NodeJS.Timeout>();
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        waits.delete(t);
        resolve();
      }, ms);
      waits.add(t);
    });

  const round = async (): Promise<boolean> => {
    for (let attempt = 1; attempt <= BACKOFF_MS.length && !stopped; attempt++) {
      if (BACKOFF_MS[attempt - 1]! > 0) await wait(BACKOFF_MS[attempt - 1]!);
      if (stopped) break;
      logger.info(`[SESSION-STORE] Initializing session table (attempt ${attempt}/${BACKOFF_MS.length})…`);
      try {
        const { rows } = await pool.query<{ table: string | null }>(`SELECT to_regclass('public.session_store')::text AS table`);
        if (!rows[0]?.table) {
          // Expected on a first boot (migrations run alongside): not an error worth a red line.
          lastError = MIGRATIONS_PENDING;
          logger.info(`[SESSION-STORE] Waiting for migrations (attempt ${attempt}/${BACKOFF_MS.length})`);
          continue;
        }
        ready = true;
        lastError = undefined;
        logger.info('[SESSION-STORE] Session table ready');
        return true;
      } catch (error) {
        lastError = (error as Error).message;
        logger.error(`[SESSION-STORE-ERROR] Attempt ${attempt}/${BACKOFF_MS.length} failed: ${lastError}`);
      }
    }
    return false;
  };

  const scheduleRetry = () => {
    if (stopped || ready) return;
    if (lastError === MIGRATIONS_PENDING) logger.info(`[SESSION-STORE] Session table not migrated yet; checking again in ${retryMs} ms`);
    else logger.error(`[SESSION-STORE-ERROR] Session table unavailable; retrying in ${retryMs} ms`);
    retryTimer = setTimeout(() => {
      void round().then((ok) => ok || scheduleRetry());
    }, retryMs);
    retryTimer.unref();
  };

  const firstRound = round().then((ok) => {
    if (!ok) scheduleRetry();
    return ok;
  });

  return {
    ready: () => ready,
    lastError: () => lastError,
    firstRound,
    stop() {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      for (const t of waits) clearTimeout(t);
    },
  };
}
