import PgBoss from 'pg-boss';
import type pg from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';
import { executeWithRetry, type UnitOfWork } from '../db';
import { type Logger, summarizeError } from './logger';
import type { AppModule, ComponentHealth } from './module';

/*
 * Background work on pg-boss: jobs live in the application's own Postgres (schema `pgboss`),
 * so a job sent inside a unit of work exists exactly when that transaction commits, several
 * instances share the work (SKIP LOCKED), and a job whose worker died is retried once its lease
 * (`expireInSeconds`) runs out.
 *
 * pg-boss talks to the database through an `executeSql` adapter over the app pool rather than
 * a pool of its own: its statements are short (a fetch per poll, a complete per job), so one
 * connection budget to size against the database's limit is simpler than two, and it inherits
 * the app pool's driver choice (Neon or node-postgres), statement timeout and error handling.
 */

export const JOBS_SCHEMA = 'pgboss';

export interface QueueSettings {
  /** The job's lease: a job still active after this is failed and retried (by any instance). */
  expireInSeconds: number;
  retryLimit?: number;
  retryDelaySeconds?: number;
  retryBackoff?: boolean;
}

export interface WorkSettings extends QueueSettings {
  /** Jobs of this queue run at once per instance (one pg-boss worker each). */
  concurrency?: number;
}

export interface QueuedJob<T> {
  id: string;
  data: T;
  /** When the job was first queued (database time): retries keep it. */
  createdOn: Date;
  /** 0 on the first attempt. */
  retryCount: number;
}

/** Throwing fails the attempt: pg-boss retries it with the queue's delay until `retryLimit`. */
export type JobHandler<T> = (job: QueuedJob<T>) => Promise<void>;

export interface JobQueue extends AppModule {
  /** Declares a queue and its handler; the queue is created and its workers started by `start()`. */
  work<T extends object>(name: string, settings: WorkSettings, handler: JobHandler<T>): void;
  /**
   * Declares periodic work: pg-boss's scheduler sends one job per cron tick (minute granularity,
   * UTC) across all instances, and whichever instance fetches it first runs it.
   */
  every(name: string, cron: string, run: () => Promise<unknown>, settings?: Partial<QueueSettings>): void;
  /**
   * Queues a job inside the caller's transaction: it exists if and only if that commits. `key`
   * names what the job is about (e.g. a mail's id) so `liveKeys` can find it later.
   */
  send<T extends object>(unit: UnitOfWork, name: string, data: T, options?: { key?: string }): Promise<string>;
  /** Which of `keys` have a job of queue `name` still to run (queued, awaiting a retry, or running). */
  liveKeys(name: string, keys: readonly string[]): Promise<Set<string>>;
  /** Queues a job on its own (scripts, operators, tests forcing a periodic job now). */
  sendNow<T extends object>(name: string, data?: T): Promise<string>;
  /** Jobs waiting (queued or awaiting a retry), not counting those running. */
  depth(name: string): Promise<number>;
  /** The schedules pg-boss holds (name → cron). */
  schedules(): Promise<Record<string, string>>;
}

export interface JobQueueOptions {
  pool: pg.Pool;
  logger: Logger;
  metrics?: Registry;
  pollingIntervalMs: number;
  shutdownTimeoutMs: number;
  /** Whether this instance's pg-boss turns cron schedules into jobs (default true). */
  cron?: boolean;
}

interface Declared {
  name: string;
  settings: WorkSettings;
  handler: JobHandler<object>;
  cron?: string;
}

/** The message, and its cause's (drivers and ORMs wrap the database's own words). */
export function describeError(error: unknown): string {
  // A failed query's own text is its SQL and parameters: only its kind and SQLSTATE are told.
  const message = summarizeError(error);
  const cause = (error as { cause?: unknown })?.cause;
  const causeText = cause instanceof Error ? summarizeError(cause) : undefined;
  return causeText && !message.includes(causeText) && !message.includes('a query failed') ? `${message} (${causeText})` : message;
}

export function createJobQueue(options: JobQueueOptions): JobQueue {
  const { pool, logger } = options;
  // Statements pg-boss has in flight (a worker polling), for a clean stop (see stop()).
  let statements = 0;
  const db: PgBoss.Db = {
    async executeSql(text, values) {
      statements++;
      try {
        return await pool.query(text, values);
      } finally {
        statements--;
      }
    },
  };
  const build = () => {
    const instance = new PgBoss({
      db,
      schema: JOBS_SCHEMA,
      // Creates or upgrades the schema on start, under pg-boss's advisory lock (safe across instances).
      migrate: true,
      supervise: true,
      schedule: options.cron ?? true,
    });
    // Without a listener an emitted 'error' (a failed poll while the database restarts) would crash the process.
    instance.on('error', (error: Error) => logger.warn(`[JOBS] ${error.message}`));
    return instance;
  };
  let boss = build();
  const declared = new Map<string, Declared>();
  const workerIds = new Map<string, string[]>();
  let started = false;
  let stopping = false;
  const abort = new AbortController();
  let retrying: Promise<unknown> | undefined;
  let lastError: string | undefined;

  const outcomes = options.metrics
    ? new Counter({
        name: 'marketplace_jobs_total',
        help: 'Jobs run, by queue and outcome',
        labelNames: ['queue', 'outcome'] as const,
        registers: [options.metrics],
      })
    : undefined;
  if (options.metrics) {
    new Gauge({
      name: 'marketplace_job_queue_depth',
      help: 'Jobs waiting to run (queued or awaiting a retry), by queue',
      labelNames: ['queue'] as const,
      registers: [options.metrics],
      async collect() {
        for (const name of declared.keys()) {
          // Database down: keep the last value rather than fail the whole scrape.
          const size = await boss.getQueueSize(name).catch(() => undefined);
          if (size !== undefined) this.set({ queue: name }, size);
        }
      },
    });
  }

  const declare = (entry: Declared) => {
    if (started) throw new Error(`queue ${entry.name} declared after the job queue started`);
    if (declared.has(entry.name)) throw new Error(`queue ${entry.name} declared twice`);
    declared.set(entry.name, entry);
  };

  let inFlight = 0;
  let workersStoppedBusyAt: number | undefined;
  const run = (entry: Declared) => async (jobs: PgBoss.JobWithMetadata<object>[]) => {
    for (const job of jobs) {
      inFlight++;
      try {
        await entry.handler({ id: job.id, data: job.data, createdOn: job.createdOn, retryCount: job.retryCount });
        outcomes?.inc({ queue: entry.name, outcome: 'completed' });
      } catch (error) {
        outcomes?.inc({ queue: entry.name, outcome: 'failed' });
        logger.warn(`[JOBS] ${entry.name} job ${job.id} failed (attempt ${job.retryCount + 1}): ${describeError(error)}`);
        throw error;
      } finally {
        inFlight--;
      }
    }
  };

  async function startOnce(): Promise<void> {
    await boss.start();
    if (stopping) return;
    for (const entry of declared.values()) {
      const { expireInSeconds, retryLimit, retryDelaySeconds, retryBackoff } = entry.settings;
      // pg-boss asserts on a key that is present but undefined: pass only what was set.
      const queue: PgBoss.Queue = {
        name: entry.name,
        expireInSeconds,
        ...(retryLimit !== undefined && { retryLimit }),
        ...(retryDelaySeconds !== undefined && { retryDelay: retryDelaySeconds }),
        ...(retryBackoff !== undefined && { retryBackoff }),
      };
      // createQueue leaves an existing queue as it is; updateQueue applies this deploy's settings.
      await boss.createQueue(entry.name, queue);
      await boss.updateQueue(entry.name, queue);
      if (entry.cron) await boss.schedule(entry.name, entry.cron, {}, { tz: 'UTC' });
    }
    for (const entry of declared.values()) {
      if (stopping) return;
      const ids: string[] = [];
      for (let i = 0; i < (entry.settings.concurrency ?? 1); i++) {
        ids.push(
          await boss.work(
            entry.name,
            { batchSize: 1, includeMetadata: true, pollingIntervalSeconds: options.pollingIntervalMs / 1000 },
            run(entry),
          ),
        );
      }
      workerIds.set(entry.name, ids);
    }
    started = true;
    lastError = undefined;
    logger.info(`[JOBS] Started: ${[...declared.keys()].join(', ')}`);
  }

  // A pg-boss instance whose start failed half-way stays "starting" for good: retry on a fresh one.
  let attempt: Promise<void> | undefined;
  function startFresh(): Promise<void> {
    if (stopping) return Promise.resolve();
    attempt = (async () => {
      try {
        await startOnce();
      } catch (error) {
        await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
        boss = build();
        lastError = describeError(error);
        throw error;
      }
    })();
    return attempt;
  }

  const wake = (name: string) => {
    for (const id of workerIds.get(name) ?? []) boss.notifyWorker(id);
  };

  const requireId = (name: string, id: string | null) => {
    // pg-boss inserts through a join on its queue table: an unknown queue silently yields no job.
    if (!id) throw new Error(`job queue ${name} does not exist (has the server started once on this database?)`);
    return id;
  };

  return {
    name: 'jobs',
    work(name, settings, handler) {
      declare({ name, settings, handler: handler as JobHandler<object> });
    },
    every(name, cron, runPeriodic, settings) {
      declare({
        name,
        cron,
        settings: { expireInSeconds: 300, retryLimit: 2, retryDelaySeconds: 10, retryBackoff: true, ...settings, concurrency: 1 },
        handler: async () => {
          await runPeriodic();
        },
      });
    },
    async send(unit, name, data, sendOptions) {
      const id = await boss.send(name, data, {
        db: { executeSql: (text, values) => unit.query(text, values) },
        ...(sendOptions?.key !== undefined && { singletonKey: sendOptions.key }),
      });
      unit.afterCommit(() => wake(name));
      return requireId(name, id);
    },
    async sendNow(name, data) {
      const id = requireId(name, await boss.send(name, data ?? {}));
      wake(name);
      return id;
    },
    depth: (name) => boss.getQueueSize(name),
    async liveKeys(name, keys) {
      if (keys.length === 0) return new Set();
      // The key is stored as pg-boss's singleton_key; on a standard queue it only labels the job.
      const { rows } = await pool.query<{ key: string }>(
        `SELECT DISTINCT singleton_key AS key FROM ${JOBS_SCHEMA}.job WHERE name = $1 AND singleton_key = ANY($2::text[]) AND state < 'completed'`,
        [name, [...keys]],
      );
      return new Set(rows.map((r) => r.key));
    },
    async schedules() {
      return Object.fromEntries((await boss.getSchedules()).map((s) => [s.name, s.cron]));
    },
    async start() {
      try {
        await startFresh();
      } catch (error) {
        logger.error(`[JOBS] Could not start (${(error as Error).message}); retrying in the background`);
        // The database may be starting (a cold Neon compute): keep trying until it answers or we stop.
        // executeWithRetry also ends a pending backoff wait the moment stop() aborts.
        retrying = executeWithRetry(() => startFresh(), {
          maxAttempts: Number.POSITIVE_INFINITY,
          initialDelayMs: 1_000,
          maxDelayMs: 30_000,
          shouldRetry: () => true,
          signal: abort.signal,
          onRetry: ({ delayMs }) => logger.warn(`[JOBS] Start failed (${lastError}); next try in ${Math.round(delayMs)} ms`),
        }).catch(() => undefined);
      }
    },
    async health(): Promise<ComponentHealth> {
      const queues: Record<string, number | undefined> = {};
      for (const name of declared.keys()) queues[name] = await boss.getQueueSize(name).catch(() => undefined);
      return { status: started && !stopping ? 'ok' : 'degraded', started, ...(lastError ? { lastError } : {}), queues };
    },
    // No new job starts while HTTP drains; running ones continue.
    async beginShutdown() {
      stopping = true;
      if (!started) return;
      if (inFlight > 0 || statements > 0) workersStoppedBusyAt ??= Date.now();
      for (const name of declared.keys()) await boss.offWork(name);
    },
    async stop() {
      stopping = true;
      abort.abort();
      await retrying;
      // The retry policy returns on abort at once; an attempt already under way is waited for.
      await attempt?.catch(() => undefined);
      if (started && (inFlight > 0 || statements > 0)) workersStoppedBusyAt ??= Date.now();
      // Waits up to the timeout for running jobs, then fails the rest so another instance retries them.
      await boss.stop({ graceful: true, wait: true, close: false, timeout: options.shutdownTimeoutMs });
      started = false;
      // pg-boss 10's offWork re-checks workers that were busy (running a job or polling) once a
      // second until they have stopped; waiting for that last check leaves no timer behind (a
      // clean exit, no jest "failed to exit" warning). Idle workers stop at once and cost nothing.
      if (workersStoppedBusyAt !== undefined) {
        const elapsed = Date.now() - workersStoppedBusyAt;
        await new Promise((resolve) => setTimeout(resolve, Math.ceil(elapsed / 1_000) * 1_000 - elapsed + 50));
      }
    },
  };
}
