import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import { type App, type AppDeps, createApp } from '../../server/app';
import type { Database } from '../../server/db';
import { type Config, loadConfig } from '../../server/lib/config';
import type { MemoryTransport } from '../../server/lib/logger';
import { recordResponses } from './contract-recorder';
import { createTestDatabase, openTestDatabase, type TestDatabase } from './database';
import { captureLogger } from './logger';

export interface TestApp {
  app: App;
  config: Config;
  database: Database;
  sessionDatabase: Database;
  testDatabase: TestDatabase;
  logs: MemoryTransport;
  request: ReturnType<typeof supertest>;
  /** Starts a real HTTP server (for WebSocket tests, keep-alive, raw sockets); returns its base URL. */
  listen(): Promise<string>;
  server?: http.Server;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Share a database between several app instances (scale-out tests). */
  testDatabase?: TestDatabase;
  deps?: Partial<Omit<AppDeps, 'config' | 'logger' | 'database'>>;
  database?: Database;
  /** Logger to use (e.g. shared by two instances); a fresh capture otherwise. */
  capture?: ReturnType<typeof captureLogger>;
}

/**
 * Test config: limits are raised far above what a test sends (every supertest request comes
 * from 127.0.0.1), so only rate-limit tests, which set their own, ever see a 429.
 */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'debug',
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'mp-test-data-')),
    RATE_LIMIT_AUTH_PER_MIN: '100000',
    RATE_LIMIT_READS_PER_MIN: '100000',
    RATE_LIMIT_WRITES_PER_MIN: '100000',
    RATE_LIMIT_UPLOADS_PER_MIN: '100000',
    RATE_LIMIT_DOWNLOADS_PER_MIN: '100000',
    RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_15MIN: '100000',
    RATE_LIMIT_ACCOUNT_MAIL_PER_HOUR: '100000',
    RATE_LIMIT_SEARCH_PER_MIN: '100000',
    RATE_LIMIT_ORDERS_PER_MIN: '100000',
    // No test reaches the internet: upstreams a test does not fake point at a closed local port.
    COINGECKO_API_URL: 'http://127.0.0.1:9',
    CRYPTOCOMPARE_API_URL: 'http://127.0.0.1:9',
    COINMARKETCAP_API_URL: 'http://127.0.0.1:9',
    // Periodic jobs run when a test sends them, never on a cron tick racing a test's clock.
    JOBS_CRON_ENABLED: 'false',
    ...env,
  });
}

const appsByRequest = new WeakMap<object, TestApp>();

/** The test app a supertest handle talks to (helpers given only `request` read its mail outbox through it). */
export function testAppOf(request: ReturnType<typeof supertest>): TestApp {
  const t = appsByRequest.get(request);
  if (!t) throw new Error('This request handle was not made by startTestApp');
  return t;
}

/** createApp() on a fresh clone of the migrated template database, with a log capture. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const ownsDatabase = !options.testDatabase;
  const testDatabase = options.testDatabase ?? (await createTestDatabase());
  const config = testConfig({ DATABASE_URL: testDatabase.url, ...options.env });
  const { logger, memory } = options.capture ?? captureLogger();
  const database = options.database ?? openTestDatabase(testDatabase.url, logger);
  const ownsSessionDatabase = !options.deps?.sessionDatabase;
  const sessionDatabase = options.deps?.sessionDatabase ?? openTestDatabase(testDatabase.url, logger, { max: 5 });
  const app = createApp({ config, logger, database, ...options.deps, sessionDatabase });
  await app.start();
  // Every response is recorded for the contract check after the file (test/support/contract-check.ts).
  const handler = recordResponses(app);
  /*
   * One listening server per test app, shared by supertest and by tests that need a real socket
   * (WebSockets, raw HTTP): supertest given a bare handler would start and stop a server for every
   * request, which made the whole suite pay a listen, a connect and a close per request.
   */
  const server = http.createServer(handler);
  app.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const handle: TestApp = {
    app,
    config,
    database,
    sessionDatabase,
    testDatabase,
    logs: memory,
    request: supertest(server),
    server,
    async listen() {
      return url;
    },
    async close() {
      await app.beginShutdown();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await app.stop();
      if (!options.database) await database.close();
      if (ownsSessionDatabase) await sessionDatabase.close();
      if (ownsDatabase) await testDatabase.drop();
    },
  };
  appsByRequest.set(handle.request, handle);
  return handle;
}
