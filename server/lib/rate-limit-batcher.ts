import type pg from 'pg';
import type { Logger } from './logger';
import {
  type RateLimiter,
  type RateLimitVerdict,
  rateLimited,
  rateLimitUnavailable,
  storeDownWarner,
  type WhenStoreDown,
} from './rate-limit';

/*
 * Load-rationing buckets (reads, writes, search, downloads) counted in memory and shared through
 * Postgres in batches: no statement on the request path. Every RATE_LIMIT_SYNC_MS each instance
 * sends ONE multi-row upsert into `rate_limits` carrying the points it admitted since the last
 * sync, per key, and gets back the shared totals (its own and every other instance's).
 *
 * Bounded overshoot. Between two syncs an instance admits for a key at most
 * `max(1, floor(LOCAL_SHARE × (limit − total it knows)))` points; a request past that share (the
 * budget not yet known to be spent) waits for the next sync and is decided on fresh totals, so a
 * burst is delayed, never refused early. With N instances all spending on a key each interval,
 * together they admit at most N × LOCAL_SHARE of what is left per interval (≤ what is left while
 * N ≤ 1 / LOCAL_SHARE = 10), plus 1 each once what is left rounds to zero: ≤ limit + N − 1. An
 * instance that sat idle on the key acts on its last known total once before it syncs again: at
 * most LOCAL_SHARE × limit more. So per window: admitted ≤ limit × (1 + (N − 1) × LOCAL_SHARE) +
 * N − 1 — 1.1 × limit + 1 with two instances, and ≈ limit + 1 when a client hammers both.
 */
const LOCAL_SHARE = 0.1;

export interface BatchedBucketOptions {
  name: string;
  points: number;
  durationSeconds: number;
  whenStoreDown: WhenStoreDown;
}

export interface RateLimitBatcher {
  bucket(options: BatchedBucketOptions): RateLimiter;
  /** Starts the periodic sync (a timer that does nothing while no key was spent). */
  start(): void;
  /** Stops the timer and sends what is left, so a restart does not forget this instance's spending. */
  stop(): Promise<void>;
}

export interface RateLimitBatcherOptions {
  pool: pg.Pool;
  syncIntervalMs: number;
  logger: Logger;
  now?: () => number;
}

type Outcome = 'decide' | 'store-down';

interface KeyCount {
  /** Shared total of the window as Postgres last reported it (every instance's synced points). */
  shared: number;
  /** Admitted here since the last sync began (not yet sent). */
  pending: number;
  /** Sent in the sync under way, not yet in `shared`. */
  sending: number;
  /** How many of `pending` this instance may admit before the next sync. */
  share: number;
  /** When the window ends (ms); Postgres's answer replaces this instance's guess. */
  resetAt: number;
  /** Requests past the share, waiting for the next sync's totals. */
  waiting: Array<(outcome: Outcome) => void>;
}

interface Bucket extends BatchedBucketOptions {
  counts: Map<string, KeyCount>;
  /** Keys spent or waited on since the last sync: only these are sent. */
  touched: Set<string>;
  warnStoreDown: (error: unknown) => void;
}

// Counts keep a window whose start Postgres set (the first instance to sync the key), so every
// instance measures the same window; points synced after it ended open the next one.
const UPSERT = `INSERT INTO rate_limits (key, points, expire)
  SELECT * FROM unnest($1::varchar[], $2::int[], $3::bigint[])
  ON CONFLICT (key) DO UPDATE SET
    points = CASE WHEN rate_limits.expire IS NULL OR rate_limits.expire <= $4 THEN excluded.points ELSE rate_limits.points + excluded.points END,
    expire = CASE WHEN rate_limits.expire IS NULL OR rate_limits.expire <= $4 THEN excluded.expire ELSE rate_limits.expire END
  RETURNING key, points, expire`;

// Counts of ended windows are dropped this often (not every sync: that would walk every key).
const PRUNE_INTERVAL_MS = 10_000;

export function createRateLimitBatcher(options: RateLimitBatcherOptions): RateLimitBatcher {
  const now = options.now ?? Date.now;
  const buckets: Bucket[] = [];
  let timer: NodeJS.Timeout | undefined;
  let syncing: Promise<void> | undefined;
  let prunedAt = now();

  const shareOf = (bucket: Bucket, count: KeyCount) => {
    const left = bucket.points - count.shared - count.sending - count.pending;
    return left <= 0 ? 0 : Math.max(1, Math.floor(LOCAL_SHARE * left));
  };
  const settle = (count: KeyCount, outcome: Outcome) => {
    for (const resolve of count.waiting.splice(0)) resolve(outcome);
  };
  const countOf = (bucket: Bucket, key: string): KeyCount => {
    let count = bucket.counts.get(key);
    if (count && count.resetAt <= now()) {
      // The window ended: a fresh budget (waiting requests are decided on it).
      bucket.counts.delete(key);
      settle(count, 'decide');
      count = undefined;
    }
    if (!count) {
      count = { shared: 0, pending: 0, sending: 0, share: 0, resetAt: now() + bucket.durationSeconds * 1000, waiting: [] };
      count.share = shareOf(bucket, count);
      bucket.counts.set(key, count);
    }
    return count;
  };

  async function consume(bucket: Bucket, key: string): Promise<RateLimitVerdict> {
    for (;;) {
      const count = countOf(bucket, key);
      const known = count.shared + count.sending + count.pending;
      const verdict = (spent: number) => ({
        limit: bucket.points,
        remaining: bucket.points - spent,
        resetSeconds: (count.resetAt - now()) / 1000,
      });
      if (known + count.waiting.length >= bucket.points) throw rateLimited(verdict(bucket.points));
      bucket.touched.add(key);
      if (count.pending < count.share) {
        count.pending++;
        return verdict(known + 1);
      }
      const outcome = await new Promise<Outcome>((resolve) => count.waiting.push(resolve));
      if (outcome === 'store-down') throw rateLimitUnavailable();
    }
  }

  function prune(at: number) {
    prunedAt = at;
    for (const bucket of buckets) {
      for (const [key, count] of bucket.counts) {
        if (count.resetAt <= at && count.sending === 0 && !bucket.touched.has(key)) bucket.counts.delete(key);
      }
    }
  }

  async function sync(): Promise<void> {
    const at = now();
    if (at - prunedAt >= PRUNE_INTERVAL_MS) prune(at);
    const sent: Array<{ bucket: Bucket; key: string; count: KeyCount; points: number }> = [];
    for (const bucket of buckets) {
      for (const key of bucket.touched) {
        const count = bucket.counts.get(key);
        if (!count) continue;
        // Waiting requests with nothing to send still ride along: the upsert of 0 reads the total.
        sent.push({ bucket, key, count, points: count.pending });
        count.sending += count.pending;
        // What is left of the share stays left, no more: while the sync is out, the points just
        // sent must not make room for a second share on totals that are not fresh yet.
        count.share = Math.max(0, count.share - count.pending);
        count.pending = 0;
      }
      bucket.touched.clear();
    }
    if (sent.length === 0) return;
    const keys = sent.map((s) => `${s.bucket.name}:${s.key}`);
    const failed = new Set<Bucket>();
    try {
      const { rows } = await options.pool.query<{ key: string; points: number; expire: string }>(UPSERT, [
        keys,
        sent.map((s) => s.points),
        sent.map((s) => at + s.bucket.durationSeconds * 1000),
        at,
      ]);
      const totals = new Map(rows.map((row) => [row.key, row]));
      sent.forEach((s, i) => {
        s.count.sending -= s.points;
        const row = totals.get(keys[i]!);
        if (!row || s.bucket.counts.get(s.key) !== s.count) return;
        s.count.shared = row.points - s.count.sending;
        s.count.resetAt = Number(row.expire);
      });
    } catch (error) {
      for (const s of sent) {
        // Kept for the next sync; meanwhile this instance counts on its own.
        s.count.sending -= s.points;
        s.count.pending += s.points;
        s.bucket.touched.add(s.key);
        failed.add(s.bucket);
      }
      for (const bucket of failed) bucket.warnStoreDown(error);
    }
    for (const s of sent) {
      const down = failed.has(s.bucket);
      if (down && s.bucket.whenStoreDown === 'refuse') {
        s.count.share = s.count.pending;
        settle(s.count, 'store-down');
        continue;
      }
      // Fail open: while the store does not answer, the whole remaining budget is this instance's.
      s.count.share = down ? s.bucket.points : s.count.pending + shareOf(s.bucket, s.count);
      settle(s.count, 'decide');
    }
  }

  const runSync = () => {
    syncing ??= sync().finally(() => {
      syncing = undefined;
    });
    return syncing;
  };

  return {
    bucket(bucketOptions) {
      const bucket: Bucket = {
        ...bucketOptions,
        counts: new Map(),
        touched: new Set(),
        warnStoreDown: storeDownWarner(options.logger, bucketOptions.name, bucketOptions.whenStoreDown),
      };
      buckets.push(bucket);
      return { name: bucket.name, consume: (key) => consume(bucket, key) };
    },
    start() {
      timer ??= setInterval(() => {
        runSync().catch((error: Error) => options.logger.error(`[RATE-LIMIT] sync failed: ${error.message}`));
      }, options.syncIntervalMs);
      // The sync never keeps the process alive on its own.
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await syncing;
      await runSync();
    },
  };
}
