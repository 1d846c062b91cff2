/*
 * Upstream calls per 10k rate requests, healthy and with every provider dead.
 * The real app (createApp) on an embedded PostgreSQL, providers as local servers speaking the
 * CoinGecko / CryptoCompare wire formats, and a manual clock moved 100 ms per request, so 10k
 * requests span ~17 minutes of app time (in a few seconds of wall time): that shows the
 * fresh window, the 3 s throttle and the breakers' 5-minute cooldowns doing their work.
 * Run alone with `npx tsx bench/crypto-rates.ts`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../server/app';
import type { Database } from '../server/db';
import { loadConfig } from '../server/lib/config';
import { ManualClock } from '../test/support/clock';
import {
  coinGeckoPrices,
  cryptoComparePrices,
  type FakeProvider,
  failures,
  startFakeProvider,
} from '../test/support/fake-crypto-providers';
import { quietLogger, startBenchPostgres } from './support/postgres';
import { runStandalone } from './support/standalone';
import type { BenchResult } from './types';

const REQUESTS = 10_000;
const CONCURRENCY = 25;
const STEP_MS = 100;

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

interface ScenarioResult {
  upstreamCalls: number;
  non200: number;
  simulatedMinutes: number;
}

async function scenario(database: Database, url: string, healthy: boolean): Promise<ScenarioResult> {
  const clock = new ManualClock();
  const cg: FakeProvider = await startFakeProvider(clock, healthy ? coinGeckoPrices() : failures.serverError);
  const cc: FakeProvider = await startFakeProvider(clock, healthy ? cryptoComparePrices() : failures.rateLimited);
  const logger = quietLogger();
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: url,
    RATE_LIMIT_READS_PER_MIN: '10000000',
    RATE_LIMIT_WRITES_PER_MIN: '10000000',
    COINGECKO_API_URL: `${cg.url}/api/v3`,
    CRYPTOCOMPARE_API_URL: cc.url,
  });
  await database.pool.query('TRUNCATE crypto_rates');
  const app = createApp({ config, logger, database, sessionDatabase: database, clock, cryptoRates: { timeoutMs: 1_000 } });
  await app.start();
  const server = http.createServer(app.express);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/crypto/rates?symbols=BTC,ETH&vs=usd`;
  let non200 = 0;
  try {
    for (let sent = 0; sent < REQUESTS; sent += CONCURRENCY) {
      const statuses = await Promise.all(Array.from({ length: CONCURRENCY }, () => get(base)));
      non200 += statuses.filter((s) => s !== 200).length;
      clock.advance(STEP_MS * CONCURRENCY);
    }
  } finally {
    await app.beginShutdown();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await app.stop();
    await Promise.all([cg.close(), cc.close()]);
  }
  return { upstreamCalls: cg.requests.length + cc.requests.length, non200, simulatedMinutes: (REQUESTS * STEP_MS) / 60_000 };
}

export async function runCryptoBench(): Promise<BenchResult[]> {
  const postgres = await startBenchPostgres();
  try {
    const { url, database } = await postgres.createDatabase('bench_crypto');
    const healthy = await scenario(database, url, true);
    const dead = await scenario(database, url, false);
    const windows = Math.ceil((healthy.simulatedMinutes * 60_000) / (5 * 60_000));
    // Healthy: one call per 5-minute fresh window. Dead: per provider, 5 failures to open, then one probe per cooldown.
    const healthyLimit = windows + 1;
    const deadLimit = 2 * (5 + windows);
    return [
      {
        name: 'crypto-rates: upstream calls per 10k requests (healthy)',
        value: healthy.upstreamCalls,
        unit: 'calls',
        // Baseline: a pass-through proxy makes one upstream call per request.
        baseline: REQUESTS,
        ratio: healthy.upstreamCalls / REQUESTS,
        target: `≤ ${healthyLimit} (one per 5-min fresh window over ${healthy.simulatedMinutes.toFixed(1)} min), 0 non-200`,
        pass: healthy.upstreamCalls <= healthyLimit && healthy.non200 === 0,
      },
      {
        name: 'crypto-rates: upstream calls per 10k requests (every provider dead)',
        value: dead.upstreamCalls,
        unit: 'calls',
        baseline: REQUESTS,
        ratio: dead.upstreamCalls / REQUESTS,
        target: `≤ ${deadLimit} (5 failures then one probe per cooldown, per provider), 0 non-200`,
        pass: dead.upstreamCalls <= deadLimit && dead.non200 === 0,
      },
    ];
  } finally {
    agent.destroy();
    await postgres.stop();
  }
}

if (require.main === module) runStandalone(runCryptoBench);
