import autocannon from 'autocannon';
import express from 'express';
import { everyRateLimitAt, productionLikeConfig, startBenchApp } from './support/app-instance';
import { serveOnLoopback } from './support/load';
import { startBenchPostgres } from './support/postgres';
import { failedRequests, loadInRounds, summarise } from './support/rounds';
import { runStandalone } from './support/standalone';
import type { BenchResult } from './types';

const PRODUCTS = 100_000;
const READS = 1_000;
const THROUGHPUT_TARGET = 0.8;
// Uncached list p95 ceilings by concurrent connections.
const UNCACHED_P95_TARGET_MS: Record<number, number> = { 10: 50, 50: 150 };

const round = (n: number, digits: number) => Number(n.toFixed(digits));

/**
 * Cached `GET /api/products` through the whole production stack (helmet, request id, body and
 * origin checks, access log, metrics, rate limiter, session, cache) against a plain Express
 * hello-world sending the same bytes through no middleware; the statements the cached reads
 * send; and the uncached list on 100k products at 10 and 50 connections.
 */
export async function runCatalogueBench(): Promise<BenchResult[]> {
  const postgres = await startBenchPostgres();
  try {
    const { url, database } = await postgres.createDatabase('bench_catalogue');
    const { rows } = await database.pool.query(`
      WITH u AS (INSERT INTO users (email, password_hash, name) SELECT 'v' || g || '@example.com', 'x', 'V' FROM generate_series(1, 50) g RETURNING id)
      INSERT INTO vendors (user_id, store_name) SELECT id, 'Store' FROM u RETURNING id`);
    await database.pool.query(
      `INSERT INTO products (vendor_id, title, description, price_cents, stock, category, created_at)
       SELECT ($1::uuid[])[1 + g % 50], 'Item ' || g, 'Made of oak, model zx' || (g % 1000), (g * 37) % 100000, 10, 'cat' || (g % 40), now() - g * interval '1 second'
       FROM generate_series(1, ${PRODUCTS}) g`,
      [rows.map((r) => r.id)],
    );
    await database.pool.query('ANALYZE products');

    // The limiter runs on every request as in production; its budget is out of reach of one bench client.
    const ours = await startBenchApp(postgres, productionLikeConfig(url, everyRateLimitAt(1_000_000_000)));
    const listPath = '/api/products?limit=20';
    const first = await fetch(`${ours.url}${listPath}`);
    const contentType = first.headers.get('content-type') ?? 'application/json';
    const body = Buffer.from(await first.arrayBuffer());

    const hello = express();
    hello.get('/hello', (_req, res) => res.type(contentType).send(body));
    const baseline = await serveOnLoopback(hello);
    const helloUrl = `${baseline.url}/hello`;

    const cached = await loadInRounds({ ours: { url: `${ours.url}${listPath}` }, baseline: { url: helloUrl } });
    const cachedThroughput = summarise(cached, (run) => run.requestsPerSecond);

    await fetch(`${ours.url}${listPath}`).then((res) => res.arrayBuffer()); // in the cache, whatever the rounds evicted
    let answered = 0;
    const statements = await ours.statements.countDuring(async (countedUrl) => {
      const result = await autocannon({ url: `${countedUrl}${listPath}`, connections: 10, amount: READS });
      answered = result['2xx'];
    });
    const byRequests = ours.statements.total(statements.byRequests);

    // Uncached: every request a price window no other request asked for, so each misses the cache.
    let n = 0;
    const uncachedPath = () => {
      n++;
      return `/api/products?limit=20&sort=price_asc&minPrice=${n % 90_000}&maxPrice=${100_000 + Math.floor(n / 90_000)}`;
    };
    const uncachedRows: BenchResult[] = [];
    for (const [connections, targetMs] of Object.entries(UNCACHED_P95_TARGET_MS)) {
      const uncached = await loadInRounds({
        ours: {
          url: ours.url,
          connections: Number(connections),
          requests: [{ setupRequest: (request) => ({ ...request, path: uncachedPath() }) }],
        },
        baseline: { url: helloUrl, connections: Number(connections) },
      });
      const p95 = summarise(uncached, (run) => run.p95Ms);
      uncachedRows.push({
        name: `uncached GET /api/products p95 on ${PRODUCTS / 1000}k products, ${connections} connections`,
        value: round(p95.ours, 1),
        baseline: round(p95.baseline, 1),
        ratio: round(p95.ratio, 1),
        spread: [round(p95.spread[0], 1), round(p95.spread[1], 1)],
        unit: 'ms',
        target: `≤ ${targetMs} ms p95 (baseline: hello-world p95)`,
        pass: p95.ours <= targetMs && failedRequests(uncached.ours) === 0,
      });
    }
    await ours.close();
    await baseline.close();

    return [
      {
        name: 'cached GET /api/products throughput',
        value: Math.round(cachedThroughput.ours),
        baseline: Math.round(cachedThroughput.baseline),
        ratio: round(cachedThroughput.ratio, 2),
        spread: [round(cachedThroughput.spread[0], 2), round(cachedThroughput.spread[1], 2)],
        unit: 'req/s',
        target: `≥ ${THROUGHPUT_TARGET}× Express hello-world, same body`,
        pass: cachedThroughput.ratio >= THROUGHPUT_TARGET && failedRequests(cached.ours) === 0,
      },
      {
        name: `SQL statements per ${READS} anonymous cached reads`,
        value: byRequests,
        unit: `statements (app ${statements.byRequests.app}, sessions ${statements.byRequests.sessions}; ${ours.statements.total(statements.all) - byRequests} background meanwhile; ${answered} × 2xx)`,
        target: '0, at the app and session pools',
        pass: byRequests === 0 && answered === READS,
      },
      ...uncachedRows,
    ];
  } finally {
    await postgres.stop();
  }
}

if (require.main === module) runStandalone(runCatalogueBench);
