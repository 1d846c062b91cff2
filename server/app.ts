import type { Server, ServerResponse } from 'node:http';
import type { Storage } from '@google-cloud/storage';
import express, { type Express, type Request } from 'express';
import type Stripe from 'stripe';
import type { Registry } from 'prom-client';
import type { Database } from './db';
import { type Clock, systemClock } from './lib/clock';
import type { Config } from './lib/config';
import { serviceUnavailable } from './lib/errors';
import { errorHandler, notFoundHandler } from './lib/error-handler';
import type { Logger } from './lib/logger';
import { warnUntrustedHttpsProxy } from './lib/http/proxy-warning';
import { compressResponses } from './lib/http/compress-responses';
import { methodNotAllowed } from './lib/http/method-not-allowed';
import { privateWhenSignedIn } from './lib/http/private-when-signed-in';
import type { LimitBucket, Route } from './lib/http/define-route';
import { type BucketLimiter, routerFor } from './lib/http/register-routes';
import { createMetricsRegistry, httpDurationRecorder, metricsRoute, registerPoolMetrics } from './lib/metrics';
import type { AppModule, ModuleContext } from './lib/module';
import { createOpsAccessCheck } from './lib/ops-token';
import { corsFor } from './lib/cors';
import { refuseForeignOrigin, trustedOrigins } from './lib/origin-check';
import { createPgListener } from './lib/pg-listener';
import { createJobQueue, type JobQueue } from './lib/job-queue';
import { createRateLimiter, deleteExpiredRateLimits, rateLimit, type WhenStoreDown } from './lib/rate-limit';
import { createRateLimitBatcher } from './lib/rate-limit-batcher';
import { keepRawBody } from './lib/raw-body';
import { installRequestLogger, requestPreamble } from './lib/request-context';
import { helmetHeaders } from './lib/http/security-headers';
import { type AccessLog, accessLogThroughLogger } from './lib/access-log';
import { createAdminModule } from './modules/admin';
import { createAuthModule, currentUser, setUserSuspended } from './modules/auth';
import { createCatalogueModule, findReferencedImageKeys } from './modules/catalogue';
import { type CryptoRatesOptions, createCryptoRatesModule } from './modules/crypto-rates';
import { DOCS_SCRIPT_PATH, docsRoutes, docsScript } from './modules/docs';
import { createEmailModule, welcomeEmail } from './modules/email';
import { createHealthModule } from './modules/health';
import { createObjectsModule } from './modules/objects';
import { createOrdersModule } from './modules/orders';
import { createPaymentsModule } from './modules/payments';
import { createRealtimeModule } from './modules/realtime';

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
  /** True while the schema may be incomplete (migrations pending): every route but health answers 503 `starting`. */
  isStarting?: () => boolean;
  /** Overrides for the crypto-rate service (timeouts, provider chain); defaults come from config. */
  cryptoRates?: CryptoRatesOptions;
  /** A Stripe client to use instead of one built from the config. */
  stripe?: Stripe;
  /**
   * Where access lines go (production: pino JSON, access-log.ts); omitted: through `logger`
   * (development and tests). Null: none.
   */
  accessLog?: AccessLog | null;
}

export interface App {
  express: Express;
  /** Every route the app answers, as declared (the OpenAPI document is built from the same list). */
  routes: readonly Route[];
  modules: readonly AppModule[];
  metrics: Registry;
  /** Background and periodic work (pg-boss); started by `start()`, stopped by `stop()`. */
  jobs: JobQueue;
  /** Starts background work (loops, listeners) and marks the app ready. */
  start(): Promise<void>;
  /** Gives modules the HTTP server (WebSocket upgrades). */
  attach(server: Server): void;
  /** Not ready from now on and responses carry `Connection: close`; everything else keeps serving (the drain delay). */
  announceShutdown(): void;
  /** Announces the shutdown if not yet done, and lets modules close what they hold open (WebSockets get 1001). */
  beginShutdown(): Promise<void>;
  /** After the HTTP drain: stops background work and module resources (not the main pool). */
  stop(): Promise<void>;
  isShuttingDown(): boolean;
}

const HEALTH_PATH = '/api/health';
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function createApp(deps: AppDeps): App {
  const { config, logger, database } = deps;
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? createMetricsRegistry();
  const context: ModuleContext = { config, logger, database, clock, metrics };
  registerPoolMetrics(metrics, { app: database, sessions: deps.sessionDatabase });
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
  // One LISTEN connection per instance, shared by every capability that hears other instances.
  const listener = createPgListener({ pool: database.pool, logger, label: 'NOTIFY' });
  const listenerModule: AppModule = {
    name: 'listener',
    start: () => listener.start(),
    health: () => ({ status: listener.isConnected() ? 'ok' : 'degraded', ...listener.stats() }),
    // Stopped last (modules stop in reverse order): the others may still publish while draining.
    stop: () => listener.stop(),
  };
  // One job queue per instance over the app pool; modules declare their queues before start().
  const jobs = createJobQueue({
    pool: database.pool,
    logger,
    metrics,
    pollingIntervalMs: config.JOBS_POLL_INTERVAL_MS,
    shutdownTimeoutMs: config.JOBS_SHUTDOWN_TIMEOUT_MS,
    cron: config.JOBS_CRON_ENABLED,
  });
  const email = createEmailModule(context, { jobs });
  const auth = createAuthModule(context, {
    sessionDatabase: deps.sessionDatabase,
    listener,
    enqueueEmail: (unit, mail) => email.enqueue(unit, mail),
    onUserRegistered: (unit, user) => email.enqueue(unit, welcomeEmail(user)),
  });
  // Order matters: the catalogue asks objects whether an image exists.
  const objects = createObjectsModule(context, {
    storage: deps.objectStorage,
    // Product images are the only references to uploads today (chat and profiles carry none).
    referencedKeys: (keys) => findReferencedImageKeys(database.db, keys),
  });
  const catalogue = createCatalogueModule(context, { listener, imageExists: (key) => objects.publicObjectExists(key) });
  const cryptoRates = createCryptoRatesModule(context, deps.cryptoRates);
  const realtime = createRealtimeModule(context, {
    sessionMiddleware: auth.sessionMiddleware,
    sessions: auth,
    listener,
    // Same trust-proxy rule as req.ip: an upgrade never reaches Express, so it borrows Express's request prototype.
    clientIpOf: (req) => (Object.assign(Object.create(app.request), { headers: req.headers, socket: req.socket }) as Request).ip,
  });
  // Before orders, which places crypto orders with its invoices; its verdicts go to orders once both exist.
  const payments = createPaymentsModule(context, {
    applyUpdate: (unit, update) => orders.applyPaymentUpdate(unit, update),
    stripe: deps.stripe,
  });
  const orders = createOrdersModule(context, {
    stock: catalogue,
    cryptoInvoices: payments.cryptoInvoices,
    enqueueEmail: (unit, mail) => email.enqueue(unit, mail),
    notify: async (unit, notification) => {
      await realtime.notify(unit, notification);
    },
    quoteCrypto: (request) => cryptoRates.quote(request),
  });
  const admin = createAdminModule(context, { orders, payments, users: { setUserSuspended }, vendors: catalogue });
  // Periodic work: one job per cron tick across all instances.
  jobs.every('orders-expire-overdue', config.ORDER_EXPIRY_CRON, () => orders.sweepExpiredOrders());
  jobs.every('orders-idempotency-keys-cleanup', config.ORDER_IDEMPOTENCY_CLEANUP_CRON, () => orders.sweepIdempotencyKeys());
  jobs.every('sessions-prune', config.SESSION_PRUNE_CRON, () => auth.pruneExpiredSessions());
  jobs.every('rate-limits-cleanup', config.RATE_LIMIT_CLEANUP_CRON, () => deleteExpiredRateLimits(database.pool));
  jobs.every('objects-sweep-orphans', config.OBJECT_ORPHAN_CRON, () => objects.sweepOrphans());
  // Jobs last: their workers start once every module is up, and stop first (modules stop in reverse).
  const capabilities: AppModule[] = [listenerModule, auth, realtime, objects, catalogue, cryptoRates, orders, payments, admin, email, jobs];
  modules.push(health, ...capabilities);
  const routes: Route[] = [metricsRoute(metrics), ...modules.flatMap((m) => m.routes ?? [])];
  routes.push(...docsRoutes({ version: '1.0.0', sessionCookieName: config.SESSION_COOKIE_NAME, routes: () => routes }));
  // Counters are shared by every instance through Postgres; which routes spend from which is
  // declared per route. Buckets that guard guessing (sign-in, registration, an account's sign-ins)
  // and uploads (rare, 5 a minute: one point over is 20 %) count `exact`ly: one statement per
  // request. Buckets that ration load — orders too: a checkout's round trips are its cost, and the
  // cap on open unpaid orders is what stops hoarding — count in memory and sync in batches (rate-limit-batcher.ts): no
  // statement on the request path, overshoot bounded. `whenStoreDown` is a deliberate choice per
  // bucket (rate-limit.ts): guessing buckets refuse with 503 `rate_limit_unavailable` while
  // Postgres cannot count, so an outage never switches brute-force protection off; load buckets
  // let requests through (counting locally, warning once a minute), so the limiter never becomes the outage.
  const batcher = createRateLimitBatcher({ pool: database.pool, syncIntervalMs: config.RATE_LIMIT_SYNC_MS, logger });
  const bucket = (
    name: LimitBucket,
    per: BucketLimiter['per'],
    counting: 'exact' | 'batched',
    points: number,
    whenStoreDown: WhenStoreDown,
    durationSeconds = 60,
  ): BucketLimiter => ({
    per,
    limiter:
      counting === 'exact'
        ? createRateLimiter({ pool: database.pool, name, points, durationSeconds, whenStoreDown, logger })
        : batcher.bucket({ name, points, durationSeconds, whenStoreDown }),
  });
  const limiters = {
    reads: bucket('reads', 'caller', 'batched', config.RATE_LIMIT_READS_PER_MIN, 'allow'),
    writes: bucket('writes', 'caller', 'batched', config.RATE_LIMIT_WRITES_PER_MIN, 'allow'),
    auth: bucket('auth', 'ip', 'exact', config.RATE_LIMIT_AUTH_PER_MIN, 'refuse'),
    'login-account': bucket('login-account', 'account', 'exact', config.RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_15MIN, 'refuse', 15 * 60),
    'account-mail': bucket('account-mail', 'account', 'exact', config.RATE_LIMIT_ACCOUNT_MAIL_PER_HOUR, 'refuse', 60 * 60),
    uploads: bucket('uploads', 'user', 'exact', config.RATE_LIMIT_UPLOADS_PER_MIN, 'allow'),
    search: bucket('search', 'ip', 'batched', config.RATE_LIMIT_SEARCH_PER_MIN, 'allow'),
    orders: bucket('orders', 'user', 'batched', config.RATE_LIMIT_ORDERS_PER_MIN, 'allow'),
    downloads: bucket('downloads', 'ip', 'batched', config.RATE_LIMIT_DOWNLOADS_PER_MIN, 'allow'),
  } satisfies Record<LimitBucket, BucketLimiter>;
  // First to start, last to stop: it sends this instance's last counts while the pool is still open.
  modules.unshift({ name: 'rate-limits', start: () => batcher.start(), stop: () => batcher.stop() });
  const router = routerFor(routes, {
    limiters,
    // Inside each route, after its per-IP buckets: a refused request's body is never read.
    parseBody: express.json({ limit: '1mb', strict: true, verify: keepRawBody }),
    readRawBody: express.raw({ type: 'application/json', limit: '1mb', verify: keepRawBody }),
    uploadBodyTimeoutMs: config.UPLOAD_REQUEST_TIMEOUT_MS,
    identify: auth.sessionMiddleware,
    hasSessionCookie: auth.hasSessionCookie,
    callerOf: currentUser,
    isOperator: createOpsAccessCheck({ token: config.OPS_TOKEN, production: config.NODE_ENV === 'production' }),
  });

  const app = express();
  app.set('trust proxy', config.TRUST_PROXY);
  app.set('x-powered-by', false);
  app.set('etag', false);
  // Express 5's default, node:querystring: flat keys (repeated ones become arrays), which is all
  // our query schemas read; qs's nested objects were parsed only for zod to refuse them, at ~3 %
  // of a cached read's CPU.
  app.set('query parser', 'simple');
  installRequestLogger(app, logger);
  app.use(
    requestPreamble({
      headers: helmetHeaders(),
      bodyTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
      observe: httpDurationRecorder(metrics),
      accessLog: deps.accessLog === undefined ? accessLogThroughLogger(logger) : (deps.accessLog ?? undefined),
      userIdOf: (req) => currentUser(req)?.id,
      inFlight,
      isShuttingDown: () => shuttingDown,
    }),
  );
  app.use(warnUntrustedHttpsProxy(logger));
  // Before everything else that can answer (503 starting, errors), so a listed browser can read those too; preflights end here.
  app.use(corsFor(config.CORS_ORIGINS));
  // A request that reaches tables before migrations finish would fail with a 500; a 503 with
  // Retry-After tells the client (or the balancer's retry) to come back. Health stays open so
  // probes can see why.
  app.use((req, _res, next) => {
    if (deps.isStarting?.() && !req.path.startsWith(HEALTH_PATH))
      return next(serviceUnavailable('starting', 'The server is starting (database migrations pending); try again shortly', 2));
    next();
  });
  app.use(compressResponses());
  app.use(privateWhenSignedIn({ hasSessionCookie: auth.hasSessionCookie, isSignedIn: (req) => currentUser(req) !== undefined }));
  app.use(refuseForeignOrigin(trustedOrigins(config)));
  app.get(DOCS_SCRIPT_PATH, docsScript());
  app.use(router);
  // Unknown URLs under /api spend from the reads or writes bucket too, by IP (probing is limited),
  // and the access log still names the caller.
  const spendReadByIp = rateLimit(limiters.reads.limiter);
  const spendWriteByIp = rateLimit(limiters.writes.limiter);
  app.use('/api', (req, res, next) => (READ_METHODS.has(req.method) ? spendReadByIp : spendWriteByIp)(req, res, next));
  app.use(auth.sessionMiddleware);
  app.use(methodNotAllowed(routes));
  app.use(notFoundHandler);
  app.use(errorHandler(logger));

  return {
    express: app,
    routes,
    modules,
    metrics,
    jobs,
    async start() {
      for (const module of modules) await module.start?.();
      started = true;
    },
    attach(server) {
      for (const module of modules) module.attach?.(server);
    },
    announceShutdown() {
      shuttingDown = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    },
    async beginShutdown() {
      this.announceShutdown();
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
