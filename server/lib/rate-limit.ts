import type { NextFunction, Request, Response } from 'express';
import type pg from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { tooManyRequests } from './errors';
import type { Logger } from './logger';

export interface RateLimiter {
  name: string;
  /** Spends one point for `key`; rejects with a 429 AppError (with Retry-After) when none are left. */
  consume(key: string): Promise<void>;
}

/*
 * Counters live in Postgres (table `rate_limits`, created by a migration) so every instance
 * shares them. If the store itself fails (database down) we let the request through: the
 * request will meet the same outage where it matters, and a limiter must not be the outage.
 */
export function createRateLimiter(options: { pool: pg.Pool; name: string; pointsPerMinute: number; logger: Logger }): RateLimiter {
  const limiter = new RateLimiterPostgres({
    storeClient: options.pool,
    storeType: 'pool',
    tableName: 'rate_limits',
    tableCreated: true,
    clearExpiredByTimeout: false,
    keyPrefix: options.name,
    points: options.pointsPerMinute,
    duration: 60,
  });
  return {
    name: options.name,
    async consume(key) {
      try {
        await limiter.consume(key, 1);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) throw tooManyRequests(rejection.msBeforeNext / 1000);
        options.logger.warn(`[RATE-LIMIT] ${options.name} store unavailable, allowing request: ${(rejection as Error)?.message}`);
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
