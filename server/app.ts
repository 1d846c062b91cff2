import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Storage } from '@google-cloud/storage';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Registry } from 'prom-client';
import type { Database } from './db';
import { type Clock, systemClock } from './lib/clock';
import type { Config } from './lib/config';
import { errorHandler, notFoundHandler } from './lib/error-handler';
import type { Logger } from './lib/logger';
import { createMetricsRegistry, httpMetrics } from './lib/metrics';
import type { AppModule, ModuleContext } from './lib/module';
import { refuseForeignOrigin } from './lib/origin-check';
import { createRateLimiter, rateLimit } from './lib/rate-limit';
import { accessLog, requestContext } from './lib/request-context';
import { createAuthModule, currentUser } from './modules/auth';
import { createHealthModule } from './modules/health';
import { createObjectsModule } from './modules/objects';

/** Everything the app needs from the outside world; tests pass their own. */
export interface AppDeps {
  config: Config;
  logger: Logger;
  database: Database;
  /** The dedicated session pool (separate from `database`, so session traffic never starves queries). */
  sessionDatabase: Database;
  clock?: Clock;
  /** Prometheus registry the modules add their metrics to; a fresh one when omitted. */
  metrics?: Registry;
  /** GCS client for the gcs object driver (tests point one at a local server); built from config when omitted. */
  objectStorage?: Storage;
  /** Extra readiness condition from the runtime (e.g. migrations still pending). */
  notReadyReason?: () => string | undefined;
}

export interface App {
  express: Express;
  modules: readonly AppModule[];
  metrics: Registry;
  /** Starts background work (loops, listeners) and marks the app ready. */
  start(): Promise<void>;
  /** Gives modules the HTTP server (WebSocket upgrades). */
  attach(server: Server): void;
  /** Not ready from now on; in-flight responses are told `Connection: close`. */
  beginShutdown(): Promise<void>;
  /** After the HTTP drain: stops background work and module resources (not the main pool). */
  stop(): Promise<void>;
  isShuttingDown(): boolean;
}

const rawBodyKey = Symbol.for('marketplace.rawBody');

/** The exact bytes of a JSON body (webhook signatures are computed over them). */
export function rawBodyOf(req: IncomingMessage): Buffer | undefined {
  return (req as IncomingMessage & { [rawBodyKey]?: Buffer })[rawBodyKey];
}

export function createApp(deps: AppDeps): App {
  const { config, logger, database } = deps;
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? createMetricsRegistry();
  const context: ModuleContext = { config, logger, database, clock, metrics };
  let started = false;
  let shuttingDown = false;
  const inFlight = new Set<ServerResponse>();

  const modules: AppModule[] = [];
  const health = createHealthModule({
    database,
    modules: () => modules,
    isShuttingDown: () => shuttingDown,
    isStarted: () => started,
    notReadyReason: deps.notReadyReason,
  });
  const auth = createAuthModule(context, { sessionDatabase: deps.sessionDatabase });
  // Order matters: auth installs the session middleware the later modules rely on.
  const objects = createObjectsModule(context, { storage: deps.objectStorage });
  const capabilities: AppModule[] = [auth, objects];
  modules.push(health, ...capabilities);
  const apiLimiter = createRateLimiter({ pool: database.pool, name: 'api', pointsPerMinute: config.RATE_LIMIT_API_PER_MIN, logger });

  const app = express();
  app.set('trust proxy', config.TRUST_PROXY);
  app.set('x-powered-by', false);
  app.set('etag', false);
  app.set('query parser', 'extended');
  app.use(requestContext(logger));
  app.use((_req, res, next) => {
    if (shuttingDown) res.setHeader('Connection', 'close');
    inFlight.add(res);
    res.on('close', () => inFlight.delete(res));
    next();
  });
  app.use(accessLog(logger, (req) => currentUser(req)?.id));
  app.use(httpMetrics(metrics));
  app.use(helmet());
  app.use(refuseForeignOrigin(config.APP_ORIGIN));
  app.use(
    express.json({
      limit: '1mb',
      strict: true,
      verify: (req, _res, buf) => {
        (req as IncomingMessage & { [rawBodyKey]?: Buffer })[rawBodyKey] = Buffer.from(buf);
      },
    }),
  );
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.contentType).send(await metrics.metrics());
  });
  // Probes and scrapes are never rate limited; everything else under /api is, per client IP.
  health.mount?.(app);
  app.use('/api', rateLimit(apiLimiter));
  for (const module of capabilities) module.mount?.(app);
  app.use(notFoundHandler);
  app.use(errorHandler(logger));

  return {
    express: app,
    modules,
    metrics,
    async start() {
      for (const module of modules) await module.start?.();
      started = true;
    },
    attach(server) {
      for (const module of modules) module.attach?.(server);
    },
    async beginShutdown() {
      shuttingDown = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      await Promise.allSettled(modules.map((m) => m.beginShutdown?.()));
    },
    async stop() {
      for (const module of [...modules].reverse()) {
        try {
          await module.stop?.();
        } catch (error) {
          logger.error(`[SHUTDOWN] ${module.name} failed to stop: ${(error as Error).message}`);
        }
      }
    },
    isShuttingDown: () => shuttingDown,
  };
}
