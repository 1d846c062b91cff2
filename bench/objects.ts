import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import autocannon from 'autocannon';
import express, { type Express } from 'express';
import { loadConfig } from '../server/lib/config';
import { errorHandler } from '../server/lib/error-handler';
import { createLogger } from '../server/lib/logger';
import { createObjectsServiceFor, createStorageDriver, objectDownloads } from '../server/modules/objects';
import { runStandalone } from './support/standalone';
import type { BenchResult } from './types';

/*
 * Object downloads vs express.static on the same 1 MiB file, both on bare Express on 127.0.0.1
 * (no session, helmet or logging on either side: this measures the download path itself).
 * Full 1 MiB GETs, then 64 KiB range GETs (what a video player issues while seeking).
 * The ratio is ours / express.static, measured in the same run; target ≥ 0.9×.
 */

const SIZE = 1024 * 1024;
const ROUNDS = 3;
const ROUND_S = Number(process.env.BENCH_ROUND_S ?? 3);
const CONNECTIONS = 8;
const TARGET = 0.9;

async function listen(app: Express): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function run(url: string, headers: Record<string, string>, duration: number) {
  const result = await autocannon({ url, connections: CONNECTIONS, duration, headers });
  if (result.errors > 0 || result.non2xx > 0 || result['2xx'] === 0) {
    throw new Error(`bench run against ${url} failed: ${result.errors} errors, ${result.non2xx} non-2xx`);
  }
  return result.requests.average;
}

/**
 * Mean req/s of ours and of the reference, measured in alternating rounds after a warm-up of
 * each, so drift on a shared machine hits both sides alike.
 */
async function compare(oursUrl: string, referenceUrl: string, headers: Record<string, string>) {
  await run(referenceUrl, headers, 1);
  await run(oursUrl, headers, 1);
  let ours = 0;
  let reference = 0;
  for (let round = 0; round < ROUNDS; round++) {
    reference += await run(referenceUrl, headers, ROUND_S);
    ours += await run(oursUrl, headers, ROUND_S);
  }
  return { ours: ours / ROUNDS, reference: reference / ROUNDS };
}

export async function runObjectsBench(): Promise<BenchResult[]> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mp-bench-objects-'));
  const staticDir = path.join(dataDir, 'static');
  const servers: http.Server[] = [];
  try {
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, LOG_LEVEL: 'error', OBJECT_STORAGE_DRIVER: 'local' });
    const logger = createLogger({ config, console: false });
    const driver = createStorageDriver(config);
    const service = createObjectsServiceFor(config, logger, driver);

    const bytes = randomBytes(SIZE);
    const [bucket, ...prefix] = config.PUBLIC_OBJECT_SEARCH_PATHS[0]!.split('/').filter(Boolean);
    await driver.write({
      bucket: bucket!,
      name: [...prefix, 'bench', 'one-mib.bin'].join('/'),
      contentType: 'application/octet-stream',
      owner: 'bench',
      source: Readable.from([bytes]),
    });
    mkdirSync(staticDir, { recursive: true });
    writeFileSync(path.join(staticDir, 'one-mib.bin'), bytes);

    const oursApp = express();
    oursApp.set('etag', false);
    oursApp.use(objectDownloads(service));
    oursApp.use(errorHandler(logger));
    const staticApp = express();
    staticApp.use(express.static(staticDir));

    const ours = await listen(oursApp);
    const reference = await listen(staticApp);
    servers.push(ours.server, reference.server);
    const oursUrl = `${ours.url}/objects/public/bench/one-mib.bin`;
    const staticUrl = `${reference.url}/one-mib.bin`;

    const results: BenchResult[] = [];
    const row = (name: string, value: number, baseline: number): BenchResult => {
      const ratio = value / baseline;
      return {
        name,
        value: Math.round(value),
        unit: 'req/s',
        baseline: Math.round(baseline),
        ratio: Math.round(ratio * 100) / 100,
        target: `≥ ${TARGET}× express.static`,
        pass: ratio >= TARGET,
      };
    };

    const full = await compare(oursUrl, staticUrl, {});
    results.push(row('objects: 1 MiB download vs express.static', full.ours, full.reference));
    const range = await compare(oursUrl, staticUrl, { Range: 'bytes=262144-327679' });
    results.push(row('objects: 64 KiB range request vs express.static', range.ours, range.reference));
    return results;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) runStandalone(runObjectsBench);
