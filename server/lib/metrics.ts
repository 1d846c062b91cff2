import type { Request, Response } from 'express';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { defineRoute, type Route } from './http/define-route';
import { routePattern } from './request-context';

/**
 * One registry per app instance (not prom-client's global one), so several apps in one
 * process (tests, scale-out checks) never collide. Modules register their own metrics on it.
 */
export function createMetricsRegistry(options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

/** Records finished requests in `http_request_duration_seconds` (the request preamble calls it). */
export function httpDurationRecorder(registry: Registry): (req: Request, res: Response, seconds: number) => void {
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return (req, res, seconds) => duration.observe({ method: req.method, route: routePattern(req), status: String(res.statusCode) }, seconds);
}

/** Connection counts of each named pool, read at scrape time. */
export function registerPoolMetrics(
  registry: Registry,
  pools: Record<string, { stats(): { total: number; idle: number; waiting: number } }>,
): void {
  new Gauge({
    name: 'db_pool_connections',
    help: 'Database pool connections by pool and state',
    labelNames: ['pool', 'state'] as const,
    registers: [registry],
    collect() {
      for (const [pool, database] of Object.entries(pools)) {
        const { total, idle, waiting } = database.stats();
        this.set({ pool, state: 'total' }, total);
        this.set({ pool, state: 'idle' }, idle);
        this.set({ pool, state: 'waiting' }, waiting);
      }
    },
  });
}

/** `GET /metrics` (Prometheus text): for operators only (ops token); never rate limited, no session read, so a scrape works while the session store is down. */
export function metricsRoute(registry: Registry): Route {
  return defineRoute({
    operationId: 'getMetrics',
    method: 'get',
    path: '/metrics',
    tag: 'health',
    summary: 'Prometheus metrics of this instance',
    auth: 'ops',
    limit: [],
    responses: {
      200: { description: 'Prometheus text exposition format', content: { type: 'text/plain', schema: { type: 'string' } } },
    },
    async handler({ res }) {
      res.set('Content-Type', registry.contentType).send(await registry.metrics());
      return undefined;
    },
  });
}
