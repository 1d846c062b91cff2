import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { createApp } from '../../server/app';
import { createJsonAccessLog } from '../../server/lib/access-log';
import { CONFIG_VARIABLES, type Config, type Env, loadConfig } from '../../server/lib/config';
import { createLogger, type Logger } from '../../server/lib/logger';
import { serveOnLoopback } from './load';
import type { BenchPostgres } from './postgres';
import { countStatements, type StatementCounter } from './statement-counter';

// Nothing a bench measures calls out; an upstream asked anyway is refused at once, never waited for.
const NO_UPSTREAM = 'http://127.0.0.1:9';

/**
 * Every per-IP / per-user rate limit at `points`, whatever buckets the server declares today
 * (found by name in the config schema), so a bench from one address meets the limits it means to.
 */
export function everyRateLimitAt(points: number): Env {
  return Object.fromEntries(CONFIG_VARIABLES.filter((name) => /^RATE_LIMIT_\w+_PER_/.test(name)).map((name) => [name, String(points)]));
}

/** A development-style config for suites that sign in over plain HTTP (production cookies are `Secure`). */
export function testConfig(databaseUrl: string, overrides: Env = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    DATABASE_URL: databaseUrl,
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'mp-bench-data-')),
    COINGECKO_API_URL: NO_UPSTREAM,
    CRYPTOCOMPARE_API_URL: NO_UPSTREAM,
    ...overrides,
  });
}

/** What `npm start` runs with in production (every check of findProductionProblems met), on loopback. */
export function productionLikeConfig(databaseUrl: string, overrides: Env = {}): Config {
  return loadConfig({
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'mp-bench-data-')),
    SESSION_SECRET: randomBytes(32).toString('hex'),
    PUBLIC_OBJECT_SEARCH_PATHS: '/bench-public/public',
    PUBLIC_BASE_URL: 'http://127.0.0.1',
    PRIVATE_OBJECT_DIR: '/bench-private/private',
    STRIPE_SECRET_KEY: 'sk_live_bench',
    STRIPE_PUBLISHABLE_KEY: 'pk_live_bench',
    STRIPE_WEBHOOK_SECRET: 'whsec_bench',
    BREVO_API_KEY: 'bench',
    STRIPE_API_URL: NO_UPSTREAM,
    BREVO_API_URL: NO_UPSTREAM,
    COINGECKO_API_URL: NO_UPSTREAM,
    CRYPTOCOMPARE_API_URL: NO_UPSTREAM,
    ...overrides,
  });
}

/**
 * The logger the config asks for (production: JSON at its level) writing to nowhere: formatting
 * and level checks cost what they cost in production, a terminal does not.
 */
function discardingLogger(config: Config): Logger {
  const nowhere = new Writable({ write: (_chunk, _encoding, done) => done() });
  return createLogger({
    config,
    console: false,
    transports: [new winston.transports.Stream({ stream: nowhere, format: winston.format.json() })],
  });
}

export interface BenchApp {
  url: string;
  /** Counts the statements the app's two pools send (installed before either connected). */
  statements: StatementCounter;
  close(): Promise<void>;
}

/**
 * One app instance as production wires it: createApp's full middleware stack, its own
 * application pool and a separate session pool sized by the config, served on loopback.
 */
export async function startBenchApp(postgres: BenchPostgres, config: Config, options: { poolMax?: number } = {}): Promise<BenchApp> {
  const url = config.DATABASE_URL!;
  const database = postgres.open(url, { max: options.poolMax ?? config.DB_POOL_MAX });
  const sessionDatabase = postgres.open(url, { max: config.SESSION_POOL_MAX });
  const app = createApp({
    config,
    logger: discardingLogger(config),
    database,
    sessionDatabase,
    // As runtime.ts wires production: access lines as pino JSON, here into /dev/null.
    accessLog: createJsonAccessLog({ level: config.LOG_LEVEL, destination: '/dev/null' }) ?? null,
  });
  const statements = countStatements({ app: database.pool, sessions: sessionDatabase.pool }, app.express);
  await app.start();
  const server = await serveOnLoopback(app.express);
  const close = postgres.beforeStop(async () => {
    await server.close();
    await app.beginShutdown();
    await app.stop();
  });
  return { url: server.url, statements, close };
}
