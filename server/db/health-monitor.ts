import type { Logger } from '../lib/logger';
import type { Database, PingResult } from './database';

export interface HealthMonitor {
  last(): PingResult | undefined;
  stop(): void;
}

const SLOW_MS = 1_000;

/**
 * Runs `SELECT 1` every `intervalMs` and logs latency and pool stats under `[label]`;
 * slow checks are warnings, failures errors. The timer never keeps the process alive.
 */
export function startHealthMonitor(database: Database, options: { intervalMs: number; logger: Logger; label: string }): HealthMonitor {
  const { intervalMs, logger, label } = options;
  let last: PingResult | undefined;
  let running = false;
  const check = async () => {
    if (running) return;
    running = true;
    try {
      last = await database.ping();
      const stats = database.stats();
      if (!last.ok) logger.error(`[${label}] Health check failed: ${last.error}`, { pool: stats });
      else if (last.latencyMs > SLOW_MS) logger.warn(`[${label}] Slow health check: ${last.latencyMs} ms`, { pool: stats });
      else logger.debug(`[${label}] Health check ok in ${last.latencyMs} ms`, { pool: stats });
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  return { last: () => last, stop: () => clearInterval(timer) };
}
