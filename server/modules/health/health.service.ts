import type { Database } from '../../db';
import type { AppModule, ComponentHealth } from '../../lib/module';
import { withDeadline } from '../../lib/deadline';

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  uptimeSeconds: number;
  timestamp: string;
  memory: { rssBytes: number; heapUsedBytes: number; heapTotalBytes: number };
  components: Record<string, ComponentHealth>;
}

export interface ReadinessReport {
  ready: boolean;
  reasons: string[];
}

export interface HealthDeps {
  database: Database;
  modules: () => AppModule[];
  isShuttingDown: () => boolean;
  isStarted: () => boolean;
  notReadyReason?: () => string | undefined;
}

// As long as the database ping waits (Database.ping's default).
const COMPONENT_TIMEOUT_MS = 3_000;

async function databaseHealth(database: Database): Promise<ComponentHealth> {
  const ping = await database.ping();
  return {
    status: ping.ok ? 'ok' : 'down',
    driver: database.driver,
    latencyMs: ping.latencyMs,
    pool: database.stats(),
    ...(ping.error ? { error: ping.error } : {}),
  };
}

/** Everything at once; the database decides 200 vs 503, other components only degrade. */
export async function buildHealthReport(deps: HealthDeps): Promise<HealthReport> {
  const modules = deps.modules().filter((m) => m.health);
  const [database, ...others] = await Promise.all([
    databaseHealth(deps.database),
    ...modules.map(async (m): Promise<ComponentHealth> => {
      // A component whose check waits on a frozen database must not hold the whole report up.
      try {
        return await withDeadline(COMPONENT_TIMEOUT_MS, async () => m.health!());
      } catch (error) {
        return { status: 'down', error: (error as Error).message };
      }
    }),
  ]);
  const components: Record<string, ComponentHealth> = { database: database! };
  modules.forEach((m, i) => {
    components[m.name] = others[i]!;
  });
  const anyDown = Object.values(components).some((c) => c.status !== 'ok');
  const memory = process.memoryUsage();
  return {
    status: database!.status === 'down' ? 'down' : anyDown ? 'degraded' : 'ok',
    uptimeSeconds: Math.round(process.uptime()),
    timestamp: new Date().toISOString(),
    memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, heapTotalBytes: memory.heapTotal },
    components,
  };
}

/**
 * Public and cheap: at most one `SELECT 1`, and only when nothing else already says no. The
 * reasons name what is missing, never a database's own error text (that can carry user names,
 * hosts or auth failures; operators read it in `/api/health` and the log).
 */
export async function checkReadiness(deps: HealthDeps): Promise<ReadinessReport> {
  const reasons: string[] = [];
  if (deps.isShuttingDown()) reasons.push('shutting down');
  if (!deps.isStarted()) reasons.push('starting');
  const runtimeReason = deps.notReadyReason?.();
  if (runtimeReason) reasons.push(runtimeReason);
  for (const m of deps.modules()) {
    const reason = m.notReadyReason?.();
    if (reason) reasons.push(`${m.name}: ${reason}`);
  }
  if (reasons.length === 0) {
    const ping = await deps.database.ping(1_500);
    if (!ping.ok) reasons.push('database unreachable');
  }
  return { ready: reasons.length === 0, reasons };
}
