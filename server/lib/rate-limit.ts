import type { NextFunction, Request, Response } from 'express';
import type pg from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError, serviceUnavailable } from './errors';
import type { Logger } from './logger';

/** Where a key stands in its bucket after a request: what the `RateLimit-*` headers report. */
export interface RateLimitVerdict {
  limit: number;
  remaining: number;
  /** Seconds until the window ends and the budget is whole again. */
  resetSeconds: number;
}

export interface RateLimiter {
  name: string;
  /**
   * Spends one point for `key`; rejects with a 429 AppError (Retry-After and RateLimit-* headers)
   * when none are left. Resolves with the key's standing, or undefined when the store could not
   * be asked and the bucket lets requests through.
   */
  consume(key: string): Promise<RateLimitVerdict | undefined>;
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

/** The IETF draft `RateLimit-*` headers for a verdict. */
export function rateLimitHeaders(verdict: RateLimitVerdict): Record<string, string> {
  return {
    'RateLimit-Limit': String(verdict.limit),
    'RateLimit-Remaining': String(Math.max(0, verdict.remaining)),
    'RateLimit-Reset': String(Math.max(0, Math.ceil(verdict.resetSeconds))),
  };
}

/** 429 `rate_limited` with Retry-After and the bucket's `RateLimit-*` headers. */
export function rateLimited(verdict: RateLimitVerdict): AppError {
  return new AppError(429, 'rate_limited', 'Too many requests; try again later', undefined, {
    ...rateLimitHeaders({ ...verdict, remaining: 0 }),
    'Retry-After': String(Math.max(1, Math.ceil(verdict.resetSeconds))),
  });
}

/** 503 `rate_limit_unavailable`: a fail-closed bucket whose store cannot be asked. */
export function rateLimitUnavailable(): AppError {
  return serviceUnavailable(
    'rate_limit_unavailable',
    'This endpoint is paused while its rate limit cannot be checked; try again shortly',
    STORE_DOWN_RETRY_AFTER_S,
  );
}

/** Warns that a bucket's store is down, at most once per interval, naming the failure but never a key (an IP or an account). */
export function storeDownWarner(logger: Logger, name: string, whenStoreDown: WhenStoreDown): (error: unknown) => void {
  let lastWarnedAt = Number.NEGATIVE_INFINITY;
  let unwarned = 0;
  return (error) => {
    unwarned++;
    const now = Date.now();
    if (now - lastWarnedAt < STORE_DOWN_WARN_INTERVAL_MS) return;
    lastWarnedAt = now;
    const reason = (error as { code?: string })?.code ?? (error as Error)?.message;
    const verdict = whenStoreDown === 'refuse' ? 'refusing' : 'allowing';
    logger.warn(`[RATE-LIMIT] ${name}: store unavailable (${reason}); ${verdict} requests (${unwarned} since the last warning)`);
    unwarned = 0;
  };
}

/*
 * Exact counting: one upsert in Postgres (table `rate_limits`) per request, shared by every
 * instance. For buckets that guard guessing (sign-in, registration, an account's sign-ins) and
 * rare, costly requests (orders, uploads): they must be strict, and a statement per request is
 * nothing next to the work they do. Load-rationing buckets count in memory (rate-limit-batcher.ts).
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
  const warnStoreDown = storeDownWarner(options.logger, options.name, options.whenStoreDown);
  const verdictOf = (res: RateLimiterRes): RateLimitVerdict => ({
    limit: options.points,
    remaining: res.remainingPoints,
    resetSeconds: res.msBeforeNext / 1000,
  });
  return {
    name: options.name,
    async consume(key) {
      try {
        return verdictOf(await limiter.consume(key, 1));
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) throw rateLimited(verdictOf(rejection));
        warnStoreDown(rejection);
        if (options.whenStoreDown === 'refuse') throw rateLimitUnavailable();
        return undefined;
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

/**
 * Spends one point of `limiter` for `key` and reports the standing in `RateLimit-*` headers: of
 * the buckets a request spends from, the one with the fewest points left is reported (a refusal
 * reports the bucket that refused).
 */
export async function spendPoint(limiter: RateLimiter, key: string, res: Response): Promise<void> {
  const verdict = await limiter.consume(key);
  if (!verdict) return;
  const shown = res.getHeader('RateLimit-Remaining');
  if (shown !== undefined && Number(shown) <= verdict.remaining) return;
  res.set(rateLimitHeaders(verdict));
}

/** Middleware spending one point per request, keyed by `keyOf(req)` (skipped when it returns undefined). */
export function rateLimit(limiter: RateLimiter, keyOf: (req: Request) => string | undefined = (req) => req.ip) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = keyOf(req);
    if (key !== undefined) await spendPoint(limiter, key, res);
    next();
  };
}
