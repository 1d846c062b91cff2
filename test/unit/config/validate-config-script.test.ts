import { spawnSync } from 'node:child_process';
import { CRYPTO_ONLY_PRODUCTION_ENV } from '../../support/production-env';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const script = path.join(root, 'scripts/validate-config.ts');

/** Runs the real script (`npx tsx scripts/validate-config.ts`) in a clean directory and environment. */
function runValidator(env: Record<string, string>, dotenv?: string) {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'mp-validate-'));
  if (dotenv) writeFileSync(path.join(cwd, '.env'), dotenv);
  const result = spawnSync(path.join(root, 'node_modules/.bin/tsx'), [script], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  return { code: result.status, out: result.stdout + result.stderr };
}

describe('scripts/validate-config.ts', () => {
  it('when the production environment is empty, exits 1 listing every problem by name', () => {
    const { code, out } = runValidator({});
    expect(code).toBe(1);
    for (const name of [
      'DATABASE_URL',
      'SESSION_SECRET',
      'STRIPE_SECRET_KEY',
      'STRIPE_PUBLISHABLE_KEY',
      'STRIPE_WEBHOOK_SECRET',
      'BREVO_API_KEY',
      'PUBLIC_OBJECT_SEARCH_PATHS',
      'PRIVATE_OBJECT_DIR',
      'PUBLIC_BASE_URL',
    ]) {
      expect(out).toContain(name);
    }
  });

  it('reads .env, exits 0 for a complete live config, and never prints a secret', () => {
    const secret = 'Zq8v3L1mN0pR6tY2wE5uI9oA4sD7fG1hJ3kL5zX8cV';
    const dotenv = [
      'DATABASE_URL=postgresql://app:db-pass-123@ep-x.neon.tech/db',
      `SESSION_SECRET=${secret}`,
      'PUBLIC_OBJECT_SEARCH_PATHS=/assets/public',
      'PUBLIC_BASE_URL=https://api.shop.example.com',
      'PRIVATE_OBJECT_DIR=/assets-private/uploads',
      'STRIPE_SECRET_KEY=sk_live_51LiveSecret000000000000',
      'STRIPE_PUBLISHABLE_KEY=pk_live_51LivePublishable0000000',
      'STRIPE_WEBHOOK_SECRET=whsec_live0000000000000000',
      'BREVO_API_KEY=xkeysib-brevo-0000000000',
    ].join('\n');
    const { code, out } = runValidator({}, dotenv);
    expect(out).toContain('Configuration OK');
    expect(code).toBe(0);
    // No OPS_TOKEN: deployable, and the operator is told the ops endpoints are closed and how to open them.
    expect(out).toMatch(/Operational endpoints .* are closed \(401\): no OPS_TOKEN/);
    expect(out).not.toContain(secret);
    expect(out).not.toContain('db-pass-123');
  });

  it('a Stripe test key in production fails with exit 1 and a masked value', () => {
    const { code, out } = runValidator({
      DATABASE_URL: 'postgresql://u:p@localhost/db',
      SESSION_SECRET: 'Zq8v3L1mN0pR6tY2wE5uI9oA4sD7fG1hJ3kL5zX8cV',
      PUBLIC_OBJECT_SEARCH_PATHS: '/assets/public',
      PUBLIC_BASE_URL: 'https://api.shop.example.com',
      PRIVATE_OBJECT_DIR: '/assets-private/uploads',
      STRIPE_SECRET_KEY: 'sk_test_51TestSecretValueThatIsLong',
      STRIPE_PUBLISHABLE_KEY: 'pk_live_51LivePublishable0000000',
      STRIPE_WEBHOOK_SECRET: 'whsec_live0000000000000000',
      BREVO_API_KEY: 'xkeysib-brevo-0000000000',
    });
    expect(code).toBe(1);
    expect(out).toMatch(/STRIPE_SECRET_KEY: must be a live secret key/);
    expect(out).not.toContain('sk_test_51TestSecretValueThatIsLong');
    expect(out.match(/✗/g)).toHaveLength(1);
  });

  it('TRUST_PROXY=true in production fails with exit 1 and says why (a client would choose its own IP)', () => {
    const { code, out } = runValidator({
      DATABASE_URL: 'postgresql://u:p@localhost/db',
      SESSION_SECRET: 'Zq8v3L1mN0pR6tY2wE5uI9oA4sD7fG1hJ3kL5zX8cV',
      PUBLIC_OBJECT_SEARCH_PATHS: '/assets/public',
      PUBLIC_BASE_URL: 'https://api.shop.example.com',
      PRIVATE_OBJECT_DIR: '/assets-private/uploads',
      STRIPE_SECRET_KEY: 'sk_live_51LiveSecret000000000000',
      STRIPE_PUBLISHABLE_KEY: 'pk_live_51LivePublishable0000000',
      STRIPE_WEBHOOK_SECRET: 'whsec_live0000000000000000',
      BREVO_API_KEY: 'xkeysib-brevo-0000000000',
      TRUST_PROXY: 'true',
    });
    expect(code).toBe(1);
    expect(out).toMatch(/TRUST_PROXY: must not be true in production: .*X-Forwarded-For/);
    expect(out.match(/✗/g)).toHaveLength(1);
  });

  it('a crypto-only shop passes and is told what is off: card payments (STRIPE_ENABLED=false) and e-mail (log driver)', () => {
    const { code, out } = runValidator({
      ...CRYPTO_ONLY_PRODUCTION_ENV,
      DATABASE_URL: 'postgresql://u:p@localhost/db',
    });
    expect(out).toContain('Configuration OK');
    expect(code).toBe(0);
    expect(out).toContain('card payments: off (STRIPE_ENABLED=false)');
    expect(out).toContain('crypto payments: on (BTCPay Server at 127.0.0.1:9, store production-test-store)');
    expect(out).not.toContain(CRYPTO_ONLY_PRODUCTION_ENV.BTCPAY_API_KEY);
    expect(out).toContain('e-mail: log driver');
  });

  it('an https APP_ORIGIN with TRUST_PROXY=false fails with exit 1, explaining the dropped Secure cookie', () => {
    const { code, out } = runValidator({
      ...CRYPTO_ONLY_PRODUCTION_ENV,
      DATABASE_URL: 'postgresql://u:p@localhost/db',
      APP_ORIGIN: 'https://shop.example.com',
      TRUST_PROXY: 'false',
    });
    expect(code).toBe(1);
    expect(out).toMatch(/TRUST_PROXY: must name the proxy in front when APP_ORIGIN is https .*Secure session cookie is dropped/);
    expect(out.match(/✗/g)).toHaveLength(1);
  });
});
