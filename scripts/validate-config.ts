/*
 * Checks the environment (and .env if present) for a production deploy, using the same
 * schema as the server plus the production rules. Exit 0 when deployable, 1 with every
 * problem listed. Secrets are masked, never printed whole.
 *
 *   npx tsx scripts/validate-config.ts
 *
 * NODE_ENV defaults to production here: that is what the check is for.
 */
import { parseConfig, readEnvironment } from '../server/lib/config';

const env = readEnvironment();
env.NODE_ENV ??= 'production';
const result = parseConfig(env);

if (result.ok) {
  const c = result.config;
  process.stdout.write(
    `Configuration OK for ${c.NODE_ENV}: database driver ${c.DB_DRIVER}, storage ${c.OBJECT_STORAGE_DRIVER}, ` + `port ${c.PORT}.\n`,
  );
  // The deploy profile: what this shop does and does not do, so nothing is off by surprise.
  process.stdout.write(
    [
      c.STRIPE_ENABLED
        ? `card payments: on (Stripe, ${c.PAYMENTS_MODE} mode${c.STRIPE_SECRET_KEY ? '' : ', no STRIPE_SECRET_KEY: card checkout answers 503'})`
        : 'card payments: off (STRIPE_ENABLED=false)',
      c.BTCPAY_URL
        ? `crypto payments: on (BTCPay Server at ${new URL(c.BTCPAY_URL).host}, store ${c.BTCPAY_STORE_ID})`
        : 'crypto payments: off (no BTCPay Server configured: crypto checkout answers 503)',
      c.EMAIL_DRIVER === 'brevo' ? 'e-mail: sent through Brevo' : 'e-mail: log driver (EMAIL_DRIVER=log: written to the log, never sent)',
      `session cookie: ${c.SESSION_COOKIE_NAME}, SameSite=${c.SESSION_COOKIE_SAMESITE}${c.SESSION_COOKIE_DOMAIN ? `, Domain=${c.SESSION_COOKIE_DOMAIN}` : ''}`,
    ]
      .map((line) => `  ${line}\n`)
      .join(''),
  );
  // Not a problem either way, but an operator must know whether a scraper can reach them.
  process.stdout.write(
    c.OPS_TOKEN
      ? 'Operational endpoints (/metrics, /api/health, /api/health/ws-stats) answer callers sending Authorization: Bearer <OPS_TOKEN>.\n'
      : c.NODE_ENV === 'production'
        ? 'Operational endpoints (/metrics, /api/health, /api/health/ws-stats) are closed (401): no OPS_TOKEN. Set one (at least 32 characters) to scrape them. /api/health/live and /ready stay public.\n'
        : 'Operational endpoints are open (no OPS_TOKEN outside production).\n',
  );
  process.exit(0);
}

process.stdout.write(`Configuration has ${result.problems.length} problem(s) for ${env.NODE_ENV}:\n`);
for (const p of result.problems) process.stdout.write(`  ✗ ${p.variable}: ${p.message}\n`);
process.exit(1);
