import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { z } from 'zod';

/*
 * The one place that reads the environment. Everything else receives the frozen `Config`.
 * Development defaults make `npm run dev` work with nothing set; production rules
 * (see `findProductionProblems`) refuse a deploy that would run on dev defaults.
 */

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));
const optionalUrl = optionalText.pipe(z.url().optional());
// Five-field cron (minute hour day month weekday), as pg-boss's scheduler reads it in UTC.
const cron = (fallback: string) =>
  z
    .string()
    .trim()
    .regex(/^(\S+\s+){4}\S+$/, 'must be a five-field cron expression')
    .default(fallback);
const bucketPath = z.string().regex(/^\/[a-z0-9][a-z0-9._-]{1,221}[a-z0-9](\/[^/]+)*\/?$/i, 'must look like /bucket/path');

/*
 * Exact origins only: the browser sends `scheme://host[:port]` and the check compares strings, so
 * a path, a trailing slash or a wildcard would silently never match; each is refused by name.
 */
const corsOrigins = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const entries = value
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    for (const entry of entries) {
      const problem = originProblem(entry);
      if (problem) ctx.addIssue({ code: 'custom', message: `entry "${entry}" ${problem}` });
    }
    return Object.freeze(entries) as readonly string[];
  });

function originProblem(entry: string): string | undefined {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return 'is not a URL origin (expected scheme://host[:port], e.g. https://shop.example.com)';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http:// or https:// origin';
  if (url.origin !== entry) return `is not an exact origin (no path, query, trailing slash or default port): use "${url.origin}"`;
  return undefined;
}

// Dev-only fallback; production refuses it (and anything else that looks like a placeholder).
export const DEV_SESSION_SECRET = 'dev-only-session-secret-do-not-use-in-production';

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: int(5000),
  HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().default('.data'),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
  // Express "trust proxy": false, true, a hop count, or a comma list of addresses/subnets.
  // Production refuses `true` (see findProductionProblems): it lets a client choose its own IP.
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v): boolean | number | string => {
      if (v === 'true') return true;
      if (v === 'false' || v === '') return false;
      if (/^\d+$/.test(v)) return Number(v);
      return v;
    }),
  // The site's own public origin (the same-origin page behind a proxy); one origin. Other browser origins go in CORS_ORIGINS.
  APP_ORIGIN: optionalText.pipe(
    z
      .string()
      .refine((v) => !v.includes(','), 'takes one origin; list the browser origins allowed to call the API in CORS_ORIGINS')
      .pipe(z.url())
      .optional(),
  ),
  // Public base URL of this server's downloads (/objects/…): image URLs in API answers are built on it.
  // Behind a CDN, the CDN's URL. Unset in development: http://localhost:PORT; required in production.
  PUBLIC_BASE_URL: optionalUrl.pipe(
    z
      .string()
      .regex(/^https?:\/\/[^?#]+$/i, 'must be an http(s) URL without query or fragment')
      .optional(),
  ),
  // Comma list of exact browser origins (scheme://host[:port]) allowed to call the API with credentials.
  CORS_ORIGINS: corsOrigins,
  // Bearer token for /metrics, /api/health and ws-stats (they show internals); unset: open outside production, closed in it.
  OPS_TOKEN: optionalText,

  DATABASE_URL: optionalText.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  DB_DRIVER: z.enum(['auto', 'neon', 'pg']).default('auto'),
  DB_POOL_MAX: int(10, 1),
  DB_POOL_MIN: int(2),
  DB_IDLE_TIMEOUT: int(30_000),
  DB_CONNECT_TIMEOUT: int(5_000),
  DB_MAX_USES: int(7_500),
  DB_STATEMENT_TIMEOUT: int(10_000),
  // The client's own limit on waiting for any answer (a frozen server sends none); above
  // DB_STATEMENT_TIMEOUT so a live server's verdict comes first. 0 waits forever.
  DB_QUERY_TIMEOUT_MS: int(12_000),
  DB_HEALTH_INTERVAL: int(30_000, 100),
  EMBEDDED_PG_PORT: int(54329, 1),
  MIGRATE_ON_START: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  // host:port/path of a WebSocket-to-TCP relay for the Neon driver (local development and tests only).
  NEON_WS_PROXY: optionalText,

  SESSION_SECRET: z.string().default(DEV_SESSION_SECRET),
  SESSION_POOL_MAX: int(5, 1),
  SESSION_CONNECT_TIMEOUT: int(20_000),
  SESSION_TTL: int(604_800, 1),
  // Expired sessions are deleted by a job on this schedule (one instance per tick).
  SESSION_PRUNE_CRON: cron('17 */6 * * *'),
  SESSION_TOUCH_AFTER: int(7_200),
  // Cookie name; a `__Host-` or `__Secure-` name makes it Secure in every environment, and `__Host-` needs no SESSION_COOKIE_DOMAIN.
  SESSION_COOKIE_NAME: z
    .string()
    .trim()
    .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be a cookie name (letters, digits and !#$%&'*+-.^_`|~)")
    .default('sid'),
  // none: a storefront on another site (not just another subdomain) sends the cookie; it forces Secure.
  SESSION_COOKIE_SAMESITE: z.enum(['lax', 'strict', 'none']).default('lax'),
  // Unset: the cookie goes back only to this host. `example.com` shares it with every subdomain.
  SESSION_COOKIE_DOMAIN: optionalText.pipe(
    z
      .string()
      .regex(/^\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i, 'must be a host name such as example.com')
      .optional(),
  ),
  // After 3 failed attempts to reach the session table, the next round starts this much later (ms).
  SESSION_INIT_RETRY_MS: int(5_000, 10),

  OBJECT_STORAGE_DRIVER: z.enum(['local', 'gcs']).default('local'),
  PUBLIC_OBJECT_SEARCH_PATHS: z
    .string()
    .default('/marketplace-public/public')
    .transform((v) =>
      v
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    )
    .pipe(z.array(bucketPath).min(1)),
  PRIVATE_OBJECT_DIR: bucketPath.default('/marketplace-private/private'),
  GCS_API_ENDPOINT: optionalUrl,
  GCS_PROJECT_ID: optionalText,
  // Deadline of one GCS request (and of a lookup with its retries): storage that hangs answers 503, never holds a request.
  GCS_TIMEOUT_MS: int(10_000, 100),
  UPLOAD_MAX_BYTES: int(100 * 1024 * 1024, 1),
  // Bytes one user may keep stored (all their uploads together), so one account cannot fill the bucket.
  UPLOAD_QUOTA_BYTES: int(1024 * 1024 * 1024, 1),
  // An upload nothing (no product) refers to is deleted this long after it was stored; time enough to attach it.
  OBJECT_ORPHAN_GRACE_HOURS: int(24, 1),
  // Cron (UTC) of the job that deletes such unreferenced uploads.
  OBJECT_ORPHAN_CRON: cron('23 * * * *'),

  // false: card checkout, PaymentIntents and the webhook answer 503 card_payments_unavailable; no Stripe key needed.
  STRIPE_ENABLED: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  // Which Stripe keys production accepts (sk_live_/pk_live_ or sk_test_/pk_test_). Unset: live in production, test elsewhere.
  PAYMENTS_MODE: optionalText.pipe(z.enum(['live', 'test']).optional()),
  STRIPE_SECRET_KEY: optionalText,
  STRIPE_PUBLISHABLE_KEY: optionalText,
  STRIPE_WEBHOOK_SECRET: optionalText,
  STRIPE_API_URL: optionalUrl,
  // Deadline of one Stripe API call; a buyer waits at most this long before a 503.
  STRIPE_TIMEOUT_MS: int(10_000, 100),

  // Crypto payments through a BTCPay Server store (Greenfield API): all four or none. None: crypto checkout answers 503.
  BTCPAY_URL: optionalUrl,
  BTCPAY_API_KEY: optionalText,
  BTCPAY_STORE_ID: optionalText,
  BTCPAY_WEBHOOK_SECRET: optionalText,
  // Deadline of one BTCPay API call (connect to last byte); a hung BTCPay answers 503 crypto_payments_unavailable.
  BTCPAY_TIMEOUT_MS: int(8_000, 100),

  // log: mail goes through the outbox and is written to the log, never sent. Unset: brevo in production
  // or when BREVO_API_KEY is set, log otherwise.
  EMAIL_DRIVER: optionalText.pipe(z.enum(['log', 'brevo']).optional()),
  BREVO_API_KEY: optionalText,
  BREVO_API_URL: optionalUrl,
  EMAIL_FROM: z.string().default('Marketplace <no-reply@marketplace.local>'),
  // Sends in flight at once per instance (one pg-boss worker each).
  EMAIL_CONCURRENCY: int(10, 1),
  // The provider call's own timeout; the job's lease is derived from it so it always outlives a send.
  EMAIL_SEND_TIMEOUT_S: int(10, 1),
  // First retry delay; pg-boss doubles it per attempt (with jitter) unless EMAIL_RETRY_BACKOFF=false.
  EMAIL_RETRY_DELAY_S: int(5, 1),
  EMAIL_RETRY_BACKOFF: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  // A mail still failing this long after it was queued is given up (status failed, `npm run email:redrive` re-queues it).
  // At most 7 days: pg-boss archives a job 14 days after it was queued, and backoff can put the
  // deciding attempt up to twice the age late.
  // A pending mail nobody tried for this long and with no job left is given a fresh job by the
  // sweep on EMAIL_STRANDED_CRON (mail queued before an upgrade, or while the queue was down).
  EMAIL_STRANDED_AFTER_S: int(600, 1),
  EMAIL_STRANDED_CRON: cron('*/10 * * * *'),
  EMAIL_GIVE_UP_AFTER_S: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 86_400)
    .default(86_400),

  COINGECKO_API_KEY: optionalText,
  CRYPTOCOMPARE_API_KEY: optionalText,
  COINMARKETCAP_API_KEY: optionalText,
  COINGECKO_API_URL: z.url().default('https://api.coingecko.com/api/v3'),
  CRYPTOCOMPARE_API_URL: z.url().default('https://min-api.cryptocompare.com'),
  COINMARKETCAP_API_URL: z.url().default('https://pro-api.coinmarketcap.com'),
  // Deadline of one provider call; past it the next provider (then the next tier) is used.
  CRYPTO_PROVIDER_TIMEOUT_MS: int(5_000, 100),

  CACHE_TTL_SECONDS: int(300),
  // Memory budget of the catalogue response cache; past it the least recently used answers go.
  CACHE_MAX_MB: int(64, 1),
  // Entry cap of the same cache: every product write looks at each cached list, so this bounds that work.
  CACHE_MAX_ENTRIES: int(10_000, 1),
  // How long browsers and CDNs may reuse an anonymous catalogue answer without asking: they miss our
  // invalidations, so this bounds how old a shown price or stock may be (checkout re-reads both).
  CATALOGUE_CACHE_MAX_AGE_S: int(30),
  // After max-age a CDN may answer with the old copy once more while it revalidates (a cheap 304 here).
  CATALOGUE_CACHE_SWR_S: int(300),
  RATE_LIMIT_AUTH_PER_MIN: int(10, 1),
  // GET/HEAD requests per signed-in user (anonymous: per IP) per minute: a storefront page makes several reads, and a NAT puts many shoppers behind one IP.
  RATE_LIMIT_READS_PER_MIN: int(600, 1),
  // Other /api requests (POST, PATCH, DELETE, …) per signed-in user (anonymous: per IP) per minute.
  RATE_LIMIT_WRITES_PER_MIN: int(60, 1),
  // How often each instance syncs its in-memory counts of the load buckets (reads, writes, search, downloads) with Postgres: one statement per interval.
  RATE_LIMIT_SYNC_MS: int(250, 10),
  RATE_LIMIT_UPLOADS_PER_MIN: int(5, 1),
  // Sign-in attempts per account (e-mail), whatever IP they come from: rotating addresses cannot
  // brute-force one password. 15 minutes so a patient attacker gets ~1000 guesses a day, not 14400.
  RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_15MIN: int(10, 1),
  // Account mails (password reset links) per address per hour, from any IP: nobody can mail-bomb one inbox.
  RATE_LIMIT_ACCOUNT_MAIL_PER_HOUR: int(5, 1),
  // Full-text searches (`GET /api/products?q=`) per IP: a search costs far more than a listing.
  RATE_LIMIT_SEARCH_PER_MIN: int(30, 1),
  // Orders placed per user: each one reserves stock, so a burst of them is hoarding, not shopping.
  RATE_LIMIT_ORDERS_PER_MIN: int(10, 1),
  // Object downloads per IP: a page of product images costs one each, so this is well above the API's.
  RATE_LIMIT_DOWNLOADS_PER_MIN: int(600, 1),
  // Unpaid crypto orders hold their stock this long (on-chain payments take a while to arrive).
  ORDER_EXPIRY_MINUTES: int(30, 1),
  // Unpaid card orders hold their stock this long: a card payment completes in minutes, a longer hold only lets stock be hoarded.
  ORDER_CARD_HOLD_MINUTES: int(15, 1),
  // Units of one product one order may take (repeated lines summed); at most the 1000 a line may ask for.
  ORDER_MAX_QUANTITY_PER_PRODUCT: z.coerce.number().int().min(1).max(1_000).default(10),
  // Unpaid orders one buyer may hold at once, so nobody reserves a store's stock with orders they never pay.
  ORDER_MAX_OPEN_UNPAID: int(3, 1),
  ORDER_EXPIRY_CRON: cron('* * * * *'),
  // Cron (UTC) of the job that deletes orders' Idempotency-Keys older than 24 h.
  ORDER_IDEMPOTENCY_CLEANUP_CRON: cron('41 * * * *'),
  RATE_LIMIT_CLEANUP_CRON: cron('*/10 * * * *'),
  // How often an idle job worker asks for work (pg-boss refuses less than 500 ms); a local enqueue wakes it at once.
  JOBS_POLL_INTERVAL_MS: int(2_000, 500),
  // false: periodic jobs run only when sent by hand (tests that move a clock must not race a cron tick).
  JOBS_CRON_ENABLED: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  // On shutdown, in-flight jobs get this long to finish; the rest are released for a retry. Must
  // outlast EMAIL_SEND_TIMEOUT_S: a mail the provider accepts must be recorded before the pool closes.
  JOBS_SHUTDOWN_TIMEOUT_MS: int(12_000, 1_000),
  WS_HEARTBEAT_MS: int(30_000, 10),
  WS_MAX_PAYLOAD: int(64 * 1024, 128),
  // Per user across all their sockets on this instance (a user opening more tabs gains nothing).
  WS_MESSAGES_PER_MIN: int(120, 1),
  // Open sockets one user may hold on this instance; one more is refused with 429 on the upgrade.
  WS_MAX_SOCKETS_PER_USER: int(10, 1),
  // Open sockets (and upgrades in progress) one client address may hold on this instance; 429 beyond.
  WS_MAX_SOCKETS_PER_IP: int(50, 1),
  // How often every socket's session is re-read (one query per instance): catches expiry and rows deleted without an announcement.
  WS_SESSION_CHECK_MS: int(60_000, 100),
  // After SIGTERM, readiness answers 503 but the server keeps serving this long, so load balancers
  // stop routing here before the listener closes. Unset: 5000 in production, 0 elsewhere.
  SHUTDOWN_DRAIN_DELAY_MS: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).optional()),
  // The whole drain (delay, HTTP, then jobs, then pools); must leave the delay and the jobs their time.
  SHUTDOWN_TIMEOUT_MS: int(20_000, 100),
  // Above every load balancer's idle timeout (AWS ALB: 60 s), so the balancer, never this server,
  // closes an idle connection: a close racing the balancer's next request is a 502.
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(65_000, 1_000),
  // A request's body must have arrived within this after its headers, or it is answered 408 and
  // its connection closed: a client dribbling bytes holds a socket no longer (uploads: below).
  HTTP_REQUEST_TIMEOUT_MS: int(30_000, 1_000),
  // The same for upload routes. Unset: HTTP_REQUEST_TIMEOUT_MS + UPLOAD_MAX_BYTES at 256 KiB/s (a
  // slow 2 Mbit/s uplink), 430 s for 100 MiB, at least keep-alive + 1 s. Also Node's requestTimeout.
  UPLOAD_REQUEST_TIMEOUT_MS: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(1_000).optional()),
  // Open sockets (WebSockets included) per instance; past it new ones are dropped at once, so a flood
  // of slow clients cannot exhaust file descriptors or memory. A balancer needs a few hundred.
  HTTP_MAX_CONNECTIONS: int(4_096, 1),
});

// The slowest upload link we still serve in full: 256 KiB/s, about a 2 Mbit/s mobile uplink.
const SLOW_UPLOAD_BYTES_PER_S = 256 * 1024;

/** Defaults that depend on NODE_ENV or on other variables, filled in once the schema has parsed. */
function applyEnvironmentDefaults(parsed: z.output<typeof envSchema>) {
  return {
    ...parsed,
    PAYMENTS_MODE: parsed.PAYMENTS_MODE ?? (parsed.NODE_ENV === 'production' ? 'live' : 'test'),
    EMAIL_DRIVER: parsed.EMAIL_DRIVER ?? (parsed.NODE_ENV === 'production' || parsed.BREVO_API_KEY ? 'brevo' : 'log'),
    PUBLIC_BASE_URL: (parsed.PUBLIC_BASE_URL ?? `http://localhost:${parsed.PORT}`).replace(/\/+$/, ''),
    SHUTDOWN_DRAIN_DELAY_MS: parsed.SHUTDOWN_DRAIN_DELAY_MS ?? (parsed.NODE_ENV === 'production' ? 5_000 : 0),
    // Never below the headers timeout (keep-alive + 1 s), which Node refuses above the request timeout.
    UPLOAD_REQUEST_TIMEOUT_MS:
      parsed.UPLOAD_REQUEST_TIMEOUT_MS ??
      Math.max(
        parsed.HTTP_REQUEST_TIMEOUT_MS + Math.ceil((parsed.UPLOAD_MAX_BYTES / SLOW_UPLOAD_BYTES_PER_S) * 1000),
        parsed.HTTP_KEEP_ALIVE_TIMEOUT_MS + 1_000,
      ),
  };
}

/** Rules between variables, checked once each has parsed. */
function findCrossVariableProblems(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.JOBS_SHUTDOWN_TIMEOUT_MS < config.EMAIL_SEND_TIMEOUT_S * 1000 + 1000) {
    problems.push({
      variable: 'JOBS_SHUTDOWN_TIMEOUT_MS',
      message: `must be at least EMAIL_SEND_TIMEOUT_S + 1 s (${config.EMAIL_SEND_TIMEOUT_S * 1000 + 1000} ms), so a mail in flight at shutdown is recorded and never sent twice (got ${config.JOBS_SHUTDOWN_TIMEOUT_MS})`,
    });
  }
  const drainNeeds = config.SHUTDOWN_DRAIN_DELAY_MS + config.JOBS_SHUTDOWN_TIMEOUT_MS + 2000;
  if (config.SHUTDOWN_TIMEOUT_MS < drainNeeds) {
    problems.push({
      variable: 'SHUTDOWN_TIMEOUT_MS',
      message: `must be at least SHUTDOWN_DRAIN_DELAY_MS + JOBS_SHUTDOWN_TIMEOUT_MS + 2 s (${drainNeeds} ms), or the forced exit cuts the drain or running jobs off (got ${config.SHUTDOWN_TIMEOUT_MS})`,
    });
  }
  // UPLOAD_REQUEST_TIMEOUT_MS is the server's requestTimeout, and headersTimeout is keep-alive + 1 s.
  const uploadNeeds = Math.max(config.HTTP_KEEP_ALIVE_TIMEOUT_MS + 1000, config.HTTP_REQUEST_TIMEOUT_MS);
  if (config.UPLOAD_REQUEST_TIMEOUT_MS < uploadNeeds) {
    problems.push({
      variable: 'UPLOAD_REQUEST_TIMEOUT_MS',
      message: `must be at least HTTP_KEEP_ALIVE_TIMEOUT_MS + 1 s and HTTP_REQUEST_TIMEOUT_MS (${uploadNeeds} ms): it is the server's request timeout, Node refuses a headers timeout above it, and an upload never gets less time than any other request (got ${config.UPLOAD_REQUEST_TIMEOUT_MS})`,
    });
  }
  if (config.DB_QUERY_TIMEOUT_MS > 0 && config.DB_STATEMENT_TIMEOUT > 0 && config.DB_QUERY_TIMEOUT_MS <= config.DB_STATEMENT_TIMEOUT) {
    problems.push({
      variable: 'DB_QUERY_TIMEOUT_MS',
      message: `must be above DB_STATEMENT_TIMEOUT (${config.DB_STATEMENT_TIMEOUT} ms), so a live server cancels a slow statement before the client drops its connection (got ${config.DB_QUERY_TIMEOUT_MS})`,
    });
  }
  const btcpayMissing = missingBtcpaySettings(config);
  if (btcpayMissing.length > 0 && btcpayMissing.length < BTCPAY_SETTINGS.length) {
    problems.push({
      variable: btcpayMissing[0]!,
      message: `BTCPay Server needs all of ${BTCPAY_SETTINGS.join(', ')} or none; missing ${btcpayMissing.join(', ')}`,
    });
  }
  if (config.EMAIL_DRIVER === 'brevo' && !config.BREVO_API_KEY) {
    problems.push({
      variable: 'BREVO_API_KEY',
      message: 'required with EMAIL_DRIVER=brevo (or set EMAIL_DRIVER=log to write mail to the log)',
    });
  }
  if (config.SESSION_COOKIE_NAME.startsWith('__Host-') && config.SESSION_COOKIE_DOMAIN) {
    problems.push({
      variable: 'SESSION_COOKIE_DOMAIN',
      message: `must be unset with a __Host- cookie name: browsers drop a __Host- cookie that names a domain (got "${config.SESSION_COOKIE_DOMAIN}")`,
    });
  }
  return problems;
}

export type Config = Readonly<ReturnType<typeof applyEnvironmentDefaults>>;

/** What connects a BTCPay Server store: all or none. */
export const BTCPAY_SETTINGS = ['BTCPAY_URL', 'BTCPAY_API_KEY', 'BTCPAY_STORE_ID', 'BTCPAY_WEBHOOK_SECRET'] as const;

/** The BTCPay settings not set (all of them: crypto payments are off). */
export function missingBtcpaySettings(env: Partial<Record<(typeof BTCPAY_SETTINGS)[number], string | undefined>>): string[] {
  return BTCPAY_SETTINGS.filter((name) => !env[name]?.trim());
}

/** Every variable the server reads (documented in .env.example). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);
export type Env = Record<string, string | undefined>;

export interface ConfigProblem {
  variable: string;
  message: string;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] };

const PLACEHOLDER = /change[-_ ]?me|placeholder|secret[-_ ]?here|your[-_ ]|example|dev-only|^x+$|^(secret|password|test|default)$/i;

/** Names whose values must never be printed whole. */
export const SECRET_VARIABLES = new Set([
  'DATABASE_URL',
  'SESSION_SECRET',
  'OPS_TOKEN',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'BTCPAY_API_KEY',
  'BTCPAY_WEBHOOK_SECRET',
  'BREVO_API_KEY',
  'COINGECKO_API_KEY',
  'CRYPTOCOMPARE_API_KEY',
  'COINMARKETCAP_API_KEY',
]);

/**
 * Shows enough of a secret to recognise it (a known key prefix such as `sk_test_`) and never
 * more than a quarter of it, capped at 8 characters.
 */
export function maskSecret(value: string): string {
  const shown = Math.min(8, Math.floor(value.length / 4));
  return `${value.slice(0, shown)}… (${value.length} chars)`;
}

function describeValue(variable: string, value: string | undefined): string {
  if (value === undefined || value === '') return 'not set';
  if (variable === 'SESSION_SECRET' || variable === 'OPS_TOKEN') return `got ${value.length} chars`;
  if (variable === 'DATABASE_URL') return `got "${value.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:****@')}"`;
  if (SECRET_VARIABLES.has(variable)) return `got ${maskSecret(value)}`;
  return `got "${value.length > 60 ? `${value.slice(0, 60)}…` : value}"`;
}

/** Rules a production deploy must satisfy on top of the schema. */
export function findProductionProblems(env: Env): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const need = (variable: string, ok: (v: string) => boolean, rule: string) => {
    const value = env[variable]?.trim();
    if (!value || !ok(value)) problems.push({ variable, message: `${rule} (${describeValue(variable, value)})` });
  };
  need('DATABASE_URL', (v) => /^postgres(ql)?:\/\//.test(v), 'required in production: a postgres:// URL');
  need(
    'SESSION_SECRET',
    (v) => v.length >= 32 && !PLACEHOLDER.test(v),
    'required in production: at least 32 characters and not a placeholder',
  );
  need(
    'PUBLIC_BASE_URL',
    () => true,
    'required in production: the public URL image links are built on (this server, or the CDN in front of /objects)',
  );
  need('PUBLIC_OBJECT_SEARCH_PATHS', () => true, 'required in production: comma list of /bucket/path');
  need('PRIVATE_OBJECT_DIR', () => true, 'required in production: /bucket/path');
  if (env.STRIPE_ENABLED?.trim() !== 'false') {
    // The key's mode must be the one declared: a test key in a live shop takes no money, a live key in staging takes real money.
    const mode = env.PAYMENTS_MODE?.trim() === 'test' ? 'test' : 'live';
    const other = mode === 'live' ? 'PAYMENTS_MODE=test for a staging deploy, or ' : 'PAYMENTS_MODE=live, or ';
    need(
      'STRIPE_SECRET_KEY',
      (v) => v.startsWith(`sk_${mode}_`),
      `must be a ${mode} secret key starting with sk_${mode}_ (${other}STRIPE_ENABLED=false for a shop without card payments)`,
    );
    need('STRIPE_PUBLISHABLE_KEY', (v) => v.startsWith(`pk_${mode}_`), `must be a ${mode} publishable key starting with pk_${mode}_`);
    need('STRIPE_WEBHOOK_SECRET', (v) => v.startsWith('whsec_'), 'must be a webhook signing secret starting with whsec_');
  }
  if (env.STRIPE_ENABLED?.trim() === 'false' && missingBtcpaySettings(env).length === BTCPAY_SETTINGS.length) {
    problems.push({
      variable: 'BTCPAY_URL',
      message:
        'card payments are off (STRIPE_ENABLED=false) and no BTCPay Server is configured, so the shop can sell nothing: set BTCPAY_URL, BTCPAY_API_KEY, BTCPAY_STORE_ID and BTCPAY_WEBHOOK_SECRET, or turn card payments on',
    });
  }
  if (env.EMAIL_DRIVER?.trim() !== 'log') {
    need('BREVO_API_KEY', () => true, 'required in production to send e-mail (or EMAIL_DRIVER=log to write mail to the log instead)');
  }
  problems.push(...findCookieAndProxyProblems(env));
  // Optional: unset, the operational endpoints answer 401 to everyone (closed, never public).
  if (env.OPS_TOKEN?.trim()) {
    need(
      'OPS_TOKEN',
      (v) => v.length >= 32 && !PLACEHOLDER.test(v),
      'must be at least 32 characters and not a placeholder: it guards /metrics and the detailed health (or leave it unset to close them)',
    );
  }
  if (env.TRUST_PROXY?.trim() === 'true') {
    problems.push({
      variable: 'TRUST_PROXY',
      message:
        'must not be true in production: every X-Forwarded-For hop would be trusted, so a client picks its own IP and escapes every per-IP limit; set the number of proxies in front (e.g. 1) or their addresses/subnets (e.g. 10.0.0.0/8)',
    });
  }
  return problems;
}

const TRUST_PROXY_OFF = new Set(['', 'false', '0']);

/**
 * Behind a TLS-terminating proxy the app sees plain http: unless it trusts the proxy's
 * X-Forwarded-Proto, express-session refuses to send the Secure cookie, so sign-in answers 200
 * and nobody stays signed in.
 */
function findCookieAndProxyProblems(env: Env): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const origin = env.APP_ORIGIN?.trim() ?? '';
  // An https page may only call an https API (browsers block mixed content), so an https
  // CORS_ORIGINS entry means browsers reach this server over TLS too: an API-only deploy
  // (storefront on shop.example.com, API on api.example.com) sets no APP_ORIGIN.
  const httpsCorsOrigin = (env.CORS_ORIGINS ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .find((entry) => entry.startsWith('https://'));
  const httpsOrigin = origin.startsWith('https://') ? origin : httpsCorsOrigin;
  const https = httpsOrigin !== undefined;
  const httpsSite = origin.startsWith('https://') ? `APP_ORIGIN is https (${origin})` : `CORS_ORIGINS has an https page (${httpsOrigin})`;
  const why = origin.startsWith('https://') ? httpsSite : `${httpsSite}, which only calls an https API`;
  const trustProxy = env.TRUST_PROXY?.trim() ?? '';
  if (https && TRUST_PROXY_OFF.has(trustProxy)) {
    problems.push({
      variable: 'TRUST_PROXY',
      message: `must name the proxy in front when ${why}: behind a TLS-terminating proxy requests arrive as http, and unless TRUST_PROXY lets the server believe X-Forwarded-Proto, the Secure session cookie is dropped (sign-in answers 200 with no Set-Cookie); set the number of proxies (e.g. 1) or their addresses/subnets (got "${trustProxy || 'false'}")`,
    });
  }
  const publicBaseUrl = env.PUBLIC_BASE_URL?.trim() ?? '';
  if (https && /^http:\/\//i.test(publicBaseUrl)) {
    problems.push({
      variable: 'PUBLIC_BASE_URL',
      message: `must be https when ${httpsSite}: image URLs built on "${publicBaseUrl}" are mixed content on an https page, which browsers block or upgrade to an https URL nothing answers`,
    });
  }
  if (env.SESSION_COOKIE_SAMESITE?.trim() === 'none' && !https) {
    problems.push({
      variable: 'SESSION_COOKIE_SAMESITE',
      message: `none needs https (an https APP_ORIGIN or CORS_ORIGINS entry): browsers accept SameSite=None only on a Secure cookie, sent over https (APP_ORIGIN ${origin ? `is "${origin}"` : 'is not set'}, no https CORS_ORIGINS entry)`,
    });
  }
  return problems;
}

// Variables an earlier release read and this one does not: a deploy still setting one would have
// it silently ignored (a limit the operator chose, gone), so it is refused with what replaced it.
const REPLACED_VARIABLES: Record<string, string> = {
  RATE_LIMIT_API_PER_MIN: 'replaced by RATE_LIMIT_READS_PER_MIN (GET, 600/min) and RATE_LIMIT_WRITES_PER_MIN (the rest, 60/min)',
};

/** Parses the environment; in production also applies `findProductionProblems`. Reports every problem at once. */
export function parseConfig(env: Env): ConfigResult {
  const parsed = envSchema.safeParse(env);
  const config = parsed.success ? applyEnvironmentDefaults(parsed.data) : undefined;
  const problems: ConfigProblem[] = config
    ? findCrossVariableProblems(config)
    : (parsed.error?.issues ?? []).map((issue) => {
        const variable = String(issue.path[0] ?? '(environment)');
        return { variable, message: `${issue.message} (${describeValue(variable, env[variable])})` };
      });
  for (const [variable, replacement] of Object.entries(REPLACED_VARIABLES)) {
    if (env[variable] !== undefined) problems.push({ variable, message: `no longer read: ${replacement}` });
  }
  if (env.NODE_ENV === 'production') {
    for (const p of findProductionProblems(env)) {
      if (!problems.some((q) => q.variable === p.variable)) problems.push(p);
    }
  }
  if (problems.length > 0 || !config) return { ok: false, problems };
  return { ok: true, config: Object.freeze(config) };
}

/** `process.env` over the values of `.env` (if present): the real environment wins. */
export function readEnvironment(cwd = process.cwd()): Env {
  const file = path.join(cwd, '.env');
  const fromFile = fs.existsSync(file) ? dotenv.parse(fs.readFileSync(file)) : {};
  return { ...fromFile, ...process.env };
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Builds a config or throws `ConfigError` listing every problem. */
export function loadConfig(env: Env): Config {
  const result = parseConfig(env);
  if (!result.ok) throw new ConfigError(result.problems);
  return result.config;
}
