import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { createApp } from '../server/app';
import { loadConfig } from '../server/lib/config';
import { load, serveOnLoopback } from './support/load';
import { startBenchPostgres } from './support/postgres';
import { runStandalone } from './support/standalone';
import type { BenchResult } from './types';

const PRODUCTS = 100_000;

/**
 * Cached `GET /api/products` against an Express hello-world answering a same-sized JSON body
 * (the floor any Express route pays), and the uncached list on 100k products.
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

    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'error',
      DATABASE_URL: url,
      DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'mp-bench-data-')),
      RATE_LIMIT_API_PER_MIN: '100000000',
    });
    const app = createApp({ config, logger: postgres.logger, database, sessionDatabase: database });
    await app.start();
    const ours = await serveOnLoopback(app.express);
    const listPath = '/api/products?limit=20';
    const body = await (await fetch(`${ours.url}${listPath}`)).text();

    const hello = express();
    hello.get('/hello', (_req, res) => res.type('application/json').send(body));
    const baseline = await serveOnLoopback(hello);

    const helloRun = await load({ url: `${baseline.url}/hello` });
    const cachedRun = await load({ url: `${ours.url}${listPath}` });
    // Uncached: every request a different price window, so each is a cache miss hitting Postgres.
    let n = 0;
    const uncachedRun = await load({
      url: ours.url,
      warmupSeconds: 0,
      requests: [
        {
          setupRequest: (request) => {
            n++;
            return { ...request, path: `/api/products?limit=20&sort=price_asc&minPrice=${(n * 7) % 90_000}` };
          },
        },
      ],
    });
    await ours.close();
    await baseline.close();
    await app.beginShutdown();
    await app.stop();

    const ratio = cachedRun.requestsPerSecond / helloRun.requestsPerSecond;
    return [
      {
        name: 'cached GET /api/products throughput',
        value: Math.round(cachedRun.requestsPerSecond),
        baseline: Math.round(helloRun.requestsPerSecond),
        ratio: Number(ratio.toFixed(2)),
        unit: 'req/s',
        // Every /api request also spends a point in the shared (Postgres) API rate limiter:
        // that round trip, not the cache, bounds this number.
        target: '≥ 0.1× Express hello-world',
        pass: ratio >= 0.1 && cachedRun.non2xx === 0,
      },
      {
        name: `uncached GET /api/products p95 on ${PRODUCTS / 1000}k products`,
        value: Number(uncachedRun.p95Ms.toFixed(1)),
        baseline: Number(helloRun.p95Ms.toFixed(1)),
        ratio: helloRun.p95Ms > 0 ? Number((uncachedRun.p95Ms / helloRun.p95Ms).toFixed(1)) : undefined,
        unit: 'ms',
        target: '≤ 50 ms p95 at 10 connections',
        pass: uncachedRun.p95Ms <= 50 && uncachedRun.non2xx === 0,
      },
    ];
  } finally {
    await postgres.stop();
  }
}

if (require.main === module) runStandalone(runCatalogueBench);
