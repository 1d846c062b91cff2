import type { NextFunction, Request, Response } from 'express';
import type pg from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { serviceUnavailable, tooManyRequests } from './errors';
import type { Logger } from './logger';

export interface RateLimiter {
  name: string;
  /** Spends one point for `key`; rejects with a 429 AppError (with Retry-After) when none are left. */
  consume(key: string): Promise<void>;
}

/**
 * What a bucket does when its store (Postgres) cannot be asked. `refuse` (fail closed): 503
 * `rate_limit_unavailable` with Retry-After, for buckets that guard guessing (sign-in, registration)
 * — an outage must not switch brute-force protection off. `allow` (fail open): the request goes
 * through, for buckets that only ration load — it will meet the same outage where it matters, and
 * a limiter must not become the outage. Chosen per bucket where the buckets are declared (app.ts).
 */
export type WhenStoreDown = 'refuse' | 'allow';

export interface RateLimiterOptions {
  pool: pg.Pool;
  name: string;
  points: number;
  durationSeconds: number;
  whenStoreDown: WhenStoreDown;
  logger: Logger;
}

// A failing store would otherwise log once per request; one line per bucket per interval says it all.
const STORE_DOWN_WARN_INTERVAL_MS = 60_000;
const STORE_DOWN_RETRY_AFTER_S = 5;

/*
 * Counters live in Postgres (table `rate_limits`, created by a migration) so every instance
 * shares them.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const limiter = new RateLimiterPostgres({
    storeClient: options.pool,
    storeType: 'pool',
    tableName: 'rate_limits',
    tableCreated: true,
    clearExpiredByTimeout: false,
    keyPrefix: options.name,
    points: options.points,
    duration: options.durationSeconds,
  });
  let lastWarnedAt = Number.NEGATIVE_INFINITY;
  let unwarned = 0;
  const warnStoreDown = (error: unknown) => {
    unwarned++;
    const now = Date.now();
    if (now - lastWarnedAt < STORE_DOWN_WARN_INTERVAL_MS) return;
    lastWarnedAt = now;
    // The code and message only: never the key (an IP or an account).
    const reason = (error as { code?: string })?.code ?? (error as Error)?.message;
    const verdict = options.whenStoreDown === 'refuse' ? 'refusing' : 'allowing';
    options.logger.warn(
      `[RATE-LIMIT] ${options.name}: store unavailable (${reason}); ${verdict} requests (${unwarned} since the last warning)`,
    );
    unwarned = 0;
  };
  return {
    name: options.name,
    async consume(key) {
      try {
        await limiter.consume(key, 1);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) throw tooManyRequests(rejection.msBeforeNext / 1000);
        warnStoreDown(rejection);
        if (options.whenStoreDown === 'refuse') {
          throw serviceUnavailable(
            'rate_limit_unavailable',
            'This endpoint is paused while its rate limit cannot be checked; try again shortly',
            STORE_DOWN_RETRY_AFTER_S,
          );
        }
      }
    },
  };
}

/**
 * Deletes counters whose window has passed (rate-limiter-flexible's own timer is off: one
 * periodic job across instances does it). Returns how many rows went.
 */
export async function deleteExpiredRateLimits(pool: pg.Pool, nowMs = Date.now()): Promise<number> {
  const { rowCount } = await pool.query('DELETE FROM rate_limits WHERE expire IS NOT NULL AND expire < $1', [nowMs]);
  return rowCount ?? 0;
}

/** Middleware spending one point per request, keyed by `keyOf(req)` (skipped when it returns undefined). */
export function rateLimit(limiter: RateLimiter, keyOf: (req: Request) => string | undefined = (req) => req.ip) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const key = keyOf(req);
    if (key !== undefined) await limiter.consume(key);
    next();
  };
}
