import { HealthReport, Liveness, ReadinessReport } from '../../../shared/contracts';
import { defineRoute, json, noStore, type Route, reply } from '../../lib/http/define-route';
import { buildHealthReport, checkReadiness, type HealthDeps } from './health.service';

const NO_STORE = { 'Cache-Control': 'no-store' };

/*
 * Probes are never rate limited and read no session: they must answer while the session store is
 * down. Live and ready are public and say nothing about internals; the detailed report (pool
 * sizes, memory, database errors) is for operators (ops token).
 */
export function healthRoutes(deps: HealthDeps): Route[] {
  return [
    defineRoute({
      operationId: 'getHealth',
      method: 'get',
      path: '/api/health',
      tag: 'health',
      summary: 'Health of every component (operators only)',
      auth: 'ops',
      limit: [],
      responses: {
        200: json('Up (possibly degraded)', HealthReport, noStore),
        503: json('The database is unreachable', HealthReport, noStore),
      },
      async handler() {
        const report = await buildHealthReport(deps);
        return report.status === 'down' ? reply(503, report, NO_STORE) : reply(200, report, NO_STORE);
      },
    }),

    defineRoute({
      operationId: 'getLiveness',
      method: 'get',
      path: '/api/health/live',
      tag: 'health',
      summary: 'Liveness probe',
      auth: 'none',
      limit: [],
      responses: { 200: json('The process answers', Liveness, noStore) },
      handler: async () => reply(200, { status: 'ok' as const }, NO_STORE),
    }),

    defineRoute({
      operationId: 'getReadiness',
      method: 'get',
      path: '/api/health/ready',
      tag: 'health',
      summary: 'Readiness probe',
      auth: 'none',
      limit: [],
      responses: {
        200: json('Ready for traffic', ReadinessReport, noStore),
        503: json('Not ready (starting, shutting down, or a dependency is missing), with the reasons', ReadinessReport, noStore),
      },
      async handler() {
        const report = await checkReadiness(deps);
        return report.ready ? reply(200, report, NO_STORE) : reply(503, report, NO_STORE);
      },
    }),
  ];
}
