import { setTimeout as delay } from 'node:timers/promises';
import { everyRateLimitAt, productionLikeConfig, startBenchApp } from './support/app-instance';
import { startBenchPostgres } from './support/postgres';
import { runStandalone } from './support/standalone';
import type { BenchResult } from './types';

// The per-minute budget of every bucket, the catalogue's included (the default of the catalogue reads bucket).
const LIMIT = 600;
const OVERSHOOT_TARGET = 1.1;
const CLIENT_CONNECTIONS = 16;
// Refusals must hold this long on both instances, well past any batch synchronisation between them.
const SETTLE_MS = 3_000;
// Gives up long before the 60 s window ends, so one run never spans two windows.
const MAX_MS = 30_000;

interface Hammering {
  admitted: number[];
  refused: number;
  other: number;
  seconds: number;
}

/**
 * One client (one address) sending from `CLIENT_CONNECTIONS` connections, each request to the
 * next instance in turn, until both instances have refused for `SETTLE_MS`.
 */
async function hammer(urls: string[]): Promise<Hammering> {
  const outcome: Hammering = { admitted: urls.map(() => 0), refused: 0, other: 0, seconds: 0 };
  const firstRefusalAt: Array<number | undefined> = urls.map(() => undefined);
  const started = performance.now();
  const settled = () =>
    performance.now() - started > MAX_MS || firstRefusalAt.every((at) => at !== undefined && performance.now() - at > SETTLE_MS);
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENT_CONNECTIONS }, async () => {
      while (!settled()) {
        const instance = next++ % urls.length;
        const res = await fetch(urls[instance]!);
        await res.arrayBuffer();
        if (res.ok) outcome.admitted[instance]!++;
        else if (res.status === 429) {
          outcome.refused++;
          firstRefusalAt[instance] ??= performance.now();
        } else outcome.other++;
      }
    }),
  );
  outcome.seconds = (performance.now() - started) / 1000;
  return outcome;
}

/**
 * Limiter overshoot: two instances on one database share one budget per client. Admitted
 * requests in one window, divided by the limit, must stay ≤ 1.1 however the instances count
 * (a per-request Postgres counter gives exactly 1.0; a batched one admits what arrives between
 * two synchronisations).
 */
export async function runLimiterBench(): Promise<BenchResult[]> {
  const postgres = await startBenchPostgres();
  try {
    const { url } = await postgres.createDatabase('bench_limiter');
    const config = productionLikeConfig(url, everyRateLimitAt(LIMIT));
    const instances = [await startBenchApp(postgres, config), await startBenchApp(postgres, config)];
    // A limiter whose windows follow the clock's minutes must not reset mid-run: start early in a minute.
    const intoMinuteMs = Date.now() % 60_000;
    if (intoMinuteMs > 60_000 - MAX_MS) await delay(60_000 - intoMinuteMs + 100);
    const outcome = await hammer(instances.map((instance) => `${instance.url}/api/products?limit=20`));
    await Promise.all(instances.map((instance) => instance.close()));

    const admitted = outcome.admitted.reduce((sum, n) => sum + n, 0);
    const ratio = admitted / LIMIT;
    return [
      {
        name: `limiter: requests admitted in one window, two instances, limit ${LIMIT}/min`,
        value: admitted,
        baseline: LIMIT,
        ratio: Number(ratio.toFixed(2)),
        unit: `requests (${outcome.admitted.join(' + ')}; ${outcome.refused} × 429 in ${outcome.seconds.toFixed(1)} s)`,
        target: `≤ ${OVERSHOOT_TARGET}× the limit`,
        pass: ratio <= OVERSHOOT_TARGET && outcome.refused > 0 && outcome.other === 0,
      },
    ];
  } finally {
    await postgres.stop();
  }
}

if (require.main === module) runStandalone(runLimiterBench);
