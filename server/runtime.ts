import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { type App, createApp } from './app';
import {
  createDatabase,
  type Database,
  type EmbeddedPostgres,
  type HealthMonitor,
  executeWithRetry,
  runMigrations,
  startEmbeddedPostgres,
  startHealthMonitor,
} from './db';
import { createJsonAccessLog } from './lib/access-log';
import type { Config } from './lib/config';
import { drainHttpServer } from './lib/http/drain-server';
import type { Logger } from './lib/logger';

export interface RunningServer {
  url: string;
  app: App;
  server: http.Server;
  database: Database;
  /** Resolves once migrations are applied and background work has started. */
  ready: Promise<void>;
  sessionDatabase: Database;
  shutdown(reason: string): Promise<void>;
}

/**
 * Applies migrations, retrying while the database is unreachable (a cold Neon compute, a
 * restarting server): the HTTP server is already listening and reports not-ready meanwhile.
 */
async function migrateUntilDone(database: Database, logger: Logger, signal: AbortSignal): Promise<boolean> {
  let attempt = 1;
  try {
    await executeWithRetry(() => runMigrations(database.pool, database.driver, logger), {
      maxAttempts: Number.POSITIVE_INFINITY,
      initialDelayMs: 1_000,
      maxDelayMs: 30_000,
      signal,
      onRetry: ({ delayMs, error }) => {
        logger.error(
          `[DATABASE] Migrations failed (attempt ${attempt++}): ${(error as Error)?.message}; retrying in ${Math.round(delayMs)} ms`,
        );
      },
    });
    return true;
  } catch (error) {
    if (!signal.aborted) logger.error(`[DATABASE] Migrations failed (attempt ${attempt}): ${(error as Error)?.message}`);
    return false;
  }
}

/** Wires the real dependencies, listens, and returns a handle whose `shutdown` drains everything. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  let embedded: EmbeddedPostgres | undefined;
  let connectionString = config.DATABASE_URL;
  if (!connectionString) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.DATA_DIR,
      port: config.EMBEDDED_PG_PORT,
      database: 'marketplace',
      logger,
    });
    connectionString = embedded.url;
  }
  const common = {
    connectionString,
    driver: config.DB_DRIVER,
    idleTimeoutMillis: config.DB_IDLE_TIMEOUT,
    maxUses: config.DB_MAX_USES,
    statementTimeoutMillis: config.DB_STATEMENT_TIMEOUT,
    queryTimeoutMillis: config.DB_QUERY_TIMEOUT_MS,
    neonWsProxy: config.NEON_WS_PROXY,
  };
  const database = createDatabase(
    {
      ...common,
      max: config.DB_POOL_MAX,
      min: config.DB_POOL_MIN,
      connectionTimeoutMillis: config.DB_CONNECT_TIMEOUT,
      applicationName: 'marketplace',
    },
    logger,
  );
  // Sessions get their own small pool with a long connect timeout: a cold-starting database
  // is waited for instead of failing every signed-in request, and session traffic never
  // starves the application pool.
  const sessionDatabase = createDatabase(
    {
      ...common,
      max: config.SESSION_POOL_MAX,
      min: 0,
      connectionTimeoutMillis: config.SESSION_CONNECT_TIMEOUT,
      applicationName: 'marketplace-sessions',
    },
    logger,
    'SESSION-POOL',
  );
  logger.info(`[DATABASE] Using the ${database.driver === 'neon' ? 'Neon serverless' : 'node-postgres'} driver`);
  const monitor: HealthMonitor = startHealthMonitor(database, {
    intervalMs: config.DB_HEALTH_INTERVAL,
    logger,
    label: 'DATABASE',
  });

  // Tables exist once migrations are applied (readiness also waits for the modules to start).
  let migrated = !config.MIGRATE_ON_START;
  // Production's access lines go to stdout as pino JSON (cheap: access-log.ts); development's through the logger, readable.
  const accessLog = config.NODE_ENV === 'production' ? (createJsonAccessLog({ level: config.LOG_LEVEL }) ?? null) : undefined;
  const app = createApp({
    config,
    logger,
    database,
    sessionDatabase,
    accessLog,
    notReadyReason: () => (migrated ? undefined : 'migrations pending'),
    isStarting: () => !migrated,
  });
  const server = http.createServer(
    {
      keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      // Must exceed keepAliveTimeout, or a request arriving on a connection about to idle out is cut.
      headersTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS + 1_000,
      // Node's cut-off for any request: the longest budget a route has (uploads). Every other body
      // is held to HTTP_REQUEST_TIMEOUT_MS by the app's body deadline (lib/http/body-deadline.ts).
      requestTimeout: config.UPLOAD_REQUEST_TIMEOUT_MS,
      // Node checks the two timeouts above on this tick (default 30 s, which let slow headers live 80 s+).
      connectionsCheckingInterval: 2_000,
    },
    app.express,
  );
  // Past the cap Node drops new sockets at once; one warning a minute tells the operator.
  server.maxConnections = config.HTTP_MAX_CONNECTIONS;
  let droppedWarnedAt = Number.NEGATIVE_INFINITY;
  server.on('drop', () => {
    if (Date.now() - droppedWarnedAt < 60_000) return;
    droppedWarnedAt = Date.now();
    logger.warn(`[SERVER] HTTP_MAX_CONNECTIONS (${config.HTTP_MAX_CONNECTIONS}) reached; dropping new connections`);
  });
  app.attach(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST}:${address.port}`;
  logger.info(`[SERVER] Listening on ${url}`);

  // Modules start alongside the migrations (each copes with a database that is not there
  // yet, e.g. the session table retries); readiness waits for both.
  const abort = new AbortController();
  const ready = (async () => {
    const migrating = migrated
      ? Promise.resolve(true)
      : migrateUntilDone(database, logger, abort.signal).then((done) => {
          migrated = done;
          return done;
        });
    const [done] = await Promise.all([migrating, app.start()]);
    if (done && !abort.signal.aborted) logger.info(`[SERVER] Ready at ${url}`);
  })();

  let shuttingDown: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    shuttingDown ??= (async () => {
      logger.info(`[SHUTDOWN] ${reason}: draining`);
      abort.abort();
      // Readiness answers 503 now; load balancers need a few probes to notice, so traffic is
      // still served for the drain delay before the listener closes.
      app.announceShutdown();
      if (config.SHUTDOWN_DRAIN_DELAY_MS > 0) {
        logger.info(`[SHUTDOWN] Not ready; serving for ${config.SHUTDOWN_DRAIN_DELAY_MS} ms more while load balancers stop routing here`);
        await delay(config.SHUTDOWN_DRAIN_DELAY_MS);
      }
      logger.info('[SHUTDOWN] Closing the listener; finishing requests in flight');
      await app.beginShutdown();
      await drainHttpServer(server);
      await ready.catch(() => undefined);
      await app.stop();
      accessLog?.flush();
      monitor.stop();
      await Promise.all([database.close(), sessionDatabase.close()]);
      if (embedded) await embedded.stop();
      logger.info('[SHUTDOWN] Done');
    })();
    return shuttingDown;
  };

  return { url, app, server, database, sessionDatabase, ready, shutdown };
}
