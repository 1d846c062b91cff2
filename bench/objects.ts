import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import express, { type Express } from 'express';
import { loadConfig } from '../server/lib/config';
import { errorHandler } from '../server/lib/error-handler';
import { createLogger } from '../server/lib/logger';
import { createObjectsServiceFor, createStorageDriver, objectDownloads } from '../server/modules/objects';
import { failedRequests, loadInRounds, summarise } from './support/rounds';
import { runStandalone } from './support/standalone';
import type { BenchResult } from './types';

/*
 * Object downloads vs express.static on the same 1 MiB file, both on bare Express on 127.0.0.1
 * (no session, helmet or logging on either side: this measures the download path itself).
 * Full 1 MiB GETs, then 64 KiB range GETs (what a video player issues while seeking).
 * The ratio is the median of ours / express.static over alternating rounds; target ≥ 0.9×.
 */

const SIZE = 1024 * 1024;
const CONNECTIONS = 8;
const TARGET = 0.9;

async function listen(app: Express): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
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
    const row = async (name: string, headers: Record<string, string>): Promise<BenchResult> => {
      const rounds = await loadInRounds({
        ours: { url: oursUrl, connections: CONNECTIONS, headers },
        baseline: { url: staticUrl, connections: CONNECTIONS, headers },
      });
      const throughput = summarise(rounds, (run) => run.requestsPerSecond);
      const round = (n: number) => Math.round(n * 100) / 100;
      return {
        name,
        value: Math.round(throughput.ours),
        unit: 'req/s',
        baseline: Math.round(throughput.baseline),
        ratio: round(throughput.ratio),
        spread: [round(throughput.spread[0]), round(throughput.spread[1])],
        target: `≥ ${TARGET}× express.static`,
        pass: throughput.ratio >= TARGET && failedRequests(rounds.ours) === 0 && failedRequests(rounds.baseline) === 0,
      };
    };

    results.push(await row('objects: 1 MiB download vs express.static', {}));
    results.push(await row('objects: 64 KiB range request vs express.static', { Range: 'bytes=262144-327679' }));
    return results;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) runStandalone(runObjectsBench);
