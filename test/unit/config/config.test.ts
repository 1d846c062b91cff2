import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_VARIABLES, findProductionProblems, loadConfig, maskSecret, parseConfig } from '../../../server/lib/config';

const LIVE_ENV = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgresql://app:s3cr3t-db-pass@ep-cool-bird-123.eu-central-1.aws.neon.tech/marketplace?sslmode=require',
  SESSION_SECRET: 'Zq8v3L1mN0pR6tY2wE5uI9oA4sD7fG1hJ3kL5zX8cV',
  PUBLIC_BASE_URL: 'https://api.shop.example.com',
  PUBLIC_OBJECT_SEARCH_PATHS: '/shop-assets/public,/shop-legacy/public',
  PRIVATE_OBJECT_DIR: '/shop-private/uploads',
  STRIPE_SECRET_KEY: 'sk_live_51HxYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
  STRIPE_PUBLISHABLE_KEY: 'pk_live_51HxYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
  STRIPE_WEBHOOK_SECRET: 'whsec_AbCdEfGhIjKlMnOpQrStUvWxYz012345',
  BREVO_API_KEY: 'xkeysib-0123456789abcdef0123456789abcdef-AbCdEfGh',
};

describe('config', () => {
  it('a variable this release no longer reads is refused, naming what replaced it (a chosen limit must not vanish silently)', () => {
    const result = parseConfig({ RATE_LIMIT_API_PER_MIN: '120' });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems).toEqual([
      {
        variable: 'RATE_LIMIT_API_PER_MIN',
        message: expect.stringMatching(/no longer read: replaced by RATE_LIMIT_READS_PER_MIN .*RATE_LIMIT_WRITES_PER_MIN/),
      },
    ]);
  });

  it('when nothing is set in development, every default makes a working config', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      NODE_ENV: 'development',
      PORT: 5000,
      DATA_DIR: '.data',
      DB_DRIVER: 'auto',
      DB_POOL_MAX: 10,
      DB_POOL_MIN: 2,
      DB_IDLE_TIMEOUT: 30_000,
      DB_CONNECT_TIMEOUT: 5_000,
      DB_MAX_USES: 7_500,
      DB_STATEMENT_TIMEOUT: 10_000,
      SESSION_POOL_MAX: 5,
      SESSION_TTL: 604_800,
      SESSION_TOUCH_AFTER: 7_200,
      CACHE_TTL_SECONDS: 300,
      RATE_LIMIT_AUTH_PER_MIN: 10,
      RATE_LIMIT_READS_PER_MIN: 600,
      RATE_LIMIT_WRITES_PER_MIN: 60,
      RATE_LIMIT_SYNC_MS: 250,
      RATE_LIMIT_UPLOADS_PER_MIN: 5,
      RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_15MIN: 10,
      RATE_LIMIT_SEARCH_PER_MIN: 30,
      RATE_LIMIT_ORDERS_PER_MIN: 10,
      OBJECT_STORAGE_DRIVER: 'local',
      COINGECKO_API_URL: 'https://api.coingecko.com/api/v3',
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('when a value is invalid, the problem names the variable', () => {
    const result = parseConfig({ PORT: 'eighty', DB_DRIVER: 'mysql', PUBLIC_OBJECT_SEARCH_PATHS: 'no-leading-slash' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.variable).sort()).toEqual(['DB_DRIVER', 'PORT', 'PUBLIC_OBJECT_SEARCH_PATHS']);
  });

  it('parses TRUST_PROXY as boolean, hop count or address list', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).TRUST_PROXY).toBe('loopback, 10.0.0.0/8');
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
  });

  describe('production rules', () => {
    it('an empty production environment lists every missing variable at once', () => {
      const result = parseConfig({ NODE_ENV: 'production' });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.problems.map((p) => p.variable).sort()).toEqual(
        [
          'BREVO_API_KEY',
          'DATABASE_URL',
          'PRIVATE_OBJECT_DIR',
          'PUBLIC_BASE_URL',
          'PUBLIC_OBJECT_SEARCH_PATHS',
          'SESSION_SECRET',
          'STRIPE_PUBLISHABLE_KEY',
          'STRIPE_SECRET_KEY',
          'STRIPE_WEBHOOK_SECRET',
        ].sort(),
      );
    });

    it('a complete live environment is deployable', () => {
      const result = parseConfig(LIVE_ENV);
      expect(result).toMatchObject({ ok: true });
      expect(findProductionProblems(LIVE_ENV)).toEqual([]);
    });

    it('a Stripe test key in production is refused, naming the variable', () => {
      const problems = findProductionProblems({ ...LIVE_ENV, STRIPE_SECRET_KEY: 'sk_test_51HxYzAbCdEfGhIjKlMnOpQrStUv' });
      expect(problems).toHaveLength(1);
      expect(problems[0]!.variable).toBe('STRIPE_SECRET_KEY');
      expect(problems[0]!.message).toMatch(/sk_live_/);
    });

    it('TRUST_PROXY=true is refused in production, saying why; a hop count or subnets are deployable', () => {
      const problems = findProductionProblems({ ...LIVE_ENV, TRUST_PROXY: 'true' });
      expect(problems.map((p) => p.variable)).toEqual(['TRUST_PROXY']);
      expect(problems[0]!.message).toMatch(/X-Forwarded-For/);
      expect(problems[0]!.message).toMatch(/number of proxies|subnets/);
      const result = parseConfig({ ...LIVE_ENV, TRUST_PROXY: 'true' });
      expect(result.ok ? [] : result.problems.map((p) => p.variable)).toEqual(['TRUST_PROXY']);
      for (const trusted of ['1', '2', '10.0.0.0/8, 192.168.0.0/16', 'loopback', 'false']) {
        expect(parseConfig({ ...LIVE_ENV, TRUST_PROXY: trusted })).toMatchObject({ ok: true });
      }
      // Outside production `true` still works (a developer behind a local proxy).
      expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    });

    it('a short or placeholder session secret is refused', () => {
      for (const secret of ['too-short', 'change-me-change-me-change-me-change-me', 'x'.repeat(40)]) {
        const problems = findProductionProblems({ ...LIVE_ENV, SESSION_SECRET: secret });
        expect(problems.map((p) => p.variable)).toEqual(['SESSION_SECRET']);
      }
    });

    it('OPS_TOKEN is optional (unset closes the ops endpoints), but when set it must be 32+ characters, not a placeholder, and is never shown', () => {
      expect(findProductionProblems(LIVE_ENV)).toEqual([]);
      expect(findProductionProblems({ ...LIVE_ENV, OPS_TOKEN: 'k3P9vQ2mX7rT5wZ8bN4cH6jL1sD0fG3a' })).toEqual([]);
      for (const token of ['short-ops-token', 'change-me-change-me-change-me-change-me']) {
        const problems = findProductionProblems({ ...LIVE_ENV, OPS_TOKEN: token });
        expect(problems.map((p) => p.variable)).toEqual(['OPS_TOKEN']);
        expect(problems[0]!.message).toMatch(/at least 32 characters/);
        expect(problems[0]!.message).not.toContain(token);
      }
      expect(loadConfig({ OPS_TOKEN: 'short is fine in development' }).OPS_TOKEN).toBe('short is fine in development');
    });

    it('no problem message contains a full secret', () => {
      const bad = {
        NODE_ENV: 'production',
        DATABASE_URL: 'mysql://root:hunter2-db-password@db/x',
        SESSION_SECRET: 'short-but-secret-value',
        STRIPE_SECRET_KEY: 'sk_test_51SuperSecretTestKeyValue0000',
        STRIPE_PUBLISHABLE_KEY: 'pk_test_51Publishable0000',
        STRIPE_WEBHOOK_SECRET: 'wrong_prefix_webhook_secret_value',
      };
      const result = parseConfig(bad);
      expect(result.ok).toBe(false);
      const text = JSON.stringify(result);
      expect(text).not.toContain('hunter2-db-password');
      expect(text).not.toContain('short-but-secret-value');
      expect(text).not.toContain('sk_test_51SuperSecretTestKeyValue0000');
      expect(text).not.toContain('wrong_prefix_webhook_secret_value');
      // …but enough is shown to recognise the mistake.
      expect(text).toContain('sk_test_');
    });
  });

  it('maskSecret shows at most a quarter (max 8 chars) and the length', () => {
    expect(maskSecret('sk_live_0123456789abcdefghijklmnop')).toBe('sk_live_… (34 chars)');
    expect(maskSecret('abc')).toBe('… (3 chars)');
  });
});

describe('background jobs and e-mail sending', () => {
  it('defaults: cron schedules, pollers and the e-mail retry and give-up policy', () => {
    expect(loadConfig({})).toMatchObject({
      ORDER_EXPIRY_CRON: '* * * * *',
      SESSION_PRUNE_CRON: '17 */6 * * *',
      RATE_LIMIT_CLEANUP_CRON: '*/10 * * * *',
      JOBS_POLL_INTERVAL_MS: 2_000,
      JOBS_SHUTDOWN_TIMEOUT_MS: 12_000,
      JOBS_CRON_ENABLED: true,
      EMAIL_CONCURRENCY: 10,
      EMAIL_SEND_TIMEOUT_S: 10,
      EMAIL_RETRY_DELAY_S: 5,
      EMAIL_RETRY_BACKOFF: true,
      EMAIL_GIVE_UP_AFTER_S: 86_400,
    });
  });

  it('a jobs shutdown shorter than a mail send, a drain shorter than the jobs shutdown, or a give-up age past 7 days are each named', () => {
    const tooOld = parseConfig({ EMAIL_GIVE_UP_AFTER_S: '700000' });
    expect(tooOld.ok ? [] : tooOld.problems.map((p) => p.variable)).toEqual(['EMAIL_GIVE_UP_AFTER_S']);
    const result = parseConfig({ EMAIL_SEND_TIMEOUT_S: '20', JOBS_SHUTDOWN_TIMEOUT_MS: '12000', SHUTDOWN_TIMEOUT_MS: '13000' });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems.map((p) => p.variable).sort()).toEqual(['JOBS_SHUTDOWN_TIMEOUT_MS', 'SHUTDOWN_TIMEOUT_MS']);
    expect(problems.find((p) => p.variable === 'JOBS_SHUTDOWN_TIMEOUT_MS')!.message).toMatch(
      /at least EMAIL_SEND_TIMEOUT_S \+ 1 s \(21000 ms\)/,
    );
    expect(parseConfig({ EMAIL_SEND_TIMEOUT_S: '20', JOBS_SHUTDOWN_TIMEOUT_MS: '21000', SHUTDOWN_TIMEOUT_MS: '23000' }).ok).toBe(true);
  });

  it('the drain delay defaults to 5 s in production and 0 elsewhere, and the forced exit must outlast delay + jobs + 2 s', () => {
    expect(loadConfig({}).SHUTDOWN_DRAIN_DELAY_MS).toBe(0);
    expect(loadConfig({ NODE_ENV: 'test', SHUTDOWN_DRAIN_DELAY_MS: '' }).SHUTDOWN_DRAIN_DELAY_MS).toBe(0);
    const production = parseConfig({ NODE_ENV: 'production' });
    expect(production.ok ? [] : production.problems.map((p) => p.variable)).not.toContain('SHUTDOWN_TIMEOUT_MS');
    const short = parseConfig({ SHUTDOWN_DRAIN_DELAY_MS: '5000', JOBS_SHUTDOWN_TIMEOUT_MS: '12000', SHUTDOWN_TIMEOUT_MS: '18000' });
    expect(short.ok ? [] : short.problems.map((p) => [p.variable, p.message])).toEqual([
      ['SHUTDOWN_TIMEOUT_MS', expect.stringMatching(/SHUTDOWN_DRAIN_DELAY_MS \+ JOBS_SHUTDOWN_TIMEOUT_MS \+ 2 s \(19000 ms\)/)],
    ]);
    expect(loadConfig({ SHUTDOWN_DRAIN_DELAY_MS: '5000', SHUTDOWN_TIMEOUT_MS: '19000' }).SHUTDOWN_DRAIN_DELAY_MS).toBe(5_000);
  });

  it('server timeouts: keep-alive 65 s, a body 30 s after its headers, an upload sized for UPLOAD_MAX_BYTES at 256 KiB/s', () => {
    expect(loadConfig({})).toMatchObject({
      HTTP_KEEP_ALIVE_TIMEOUT_MS: 65_000,
      HTTP_REQUEST_TIMEOUT_MS: 30_000,
      // 30 s + 100 MiB / 256 KiB/s
      UPLOAD_REQUEST_TIMEOUT_MS: 430_000,
      HTTP_MAX_CONNECTIONS: 4_096,
    });
    expect(loadConfig({ UPLOAD_MAX_BYTES: String(10 * 1024 * 1024) }).UPLOAD_REQUEST_TIMEOUT_MS).toBe(70_000);
    // Never below the headers timeout, whatever the size.
    expect(loadConfig({ UPLOAD_MAX_BYTES: '1000' }).UPLOAD_REQUEST_TIMEOUT_MS).toBe(66_000);
    expect(loadConfig({ UPLOAD_REQUEST_TIMEOUT_MS: '' }).UPLOAD_REQUEST_TIMEOUT_MS).toBe(430_000);
    // The upload budget is the server's requestTimeout: Node refuses a headers timeout (keep-alive + 1 s) above it.
    const short = parseConfig({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000', UPLOAD_REQUEST_TIMEOUT_MS: '60000' });
    expect(short.ok ? [] : short.problems.map((p) => [p.variable, p.message])).toEqual([
      [
        'UPLOAD_REQUEST_TIMEOUT_MS',
        expect.stringMatching(/at least HTTP_KEEP_ALIVE_TIMEOUT_MS \+ 1 s and HTTP_REQUEST_TIMEOUT_MS \(66000 ms\)/),
      ],
    ]);
    const belowOrdinary = parseConfig({ HTTP_REQUEST_TIMEOUT_MS: '120000', UPLOAD_REQUEST_TIMEOUT_MS: '100000' });
    expect(belowOrdinary.ok ? [] : belowOrdinary.problems.map((p) => p.variable)).toEqual(['UPLOAD_REQUEST_TIMEOUT_MS']);
    expect(parseConfig({ HTTP_REQUEST_TIMEOUT_MS: '5000' }).ok).toBe(true);
  });

  it('a cron that is not five fields, a poll under 500 ms (pg-boss refuses it) or zero concurrency are each named', () => {
    const result = parseConfig({
      ORDER_EXPIRY_CRON: 'every minute',
      JOBS_POLL_INTERVAL_MS: '100',
      EMAIL_CONCURRENCY: '0',
      EMAIL_RETRY_BACKOFF: 'yes',
    });
    expect(result.ok).toBe(false);
    const named = result.ok ? [] : result.problems.map((p) => p.variable);
    expect(named).toEqual(
      expect.arrayContaining(['ORDER_EXPIRY_CRON', 'JOBS_POLL_INTERVAL_MS', 'EMAIL_CONCURRENCY', 'EMAIL_RETRY_BACKOFF']),
    );
  });
});

it('.env.example documents every variable the server reads', () => {
  const example = readFileSync(path.resolve(__dirname, '../../../.env.example'), 'utf8');
  const documented = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]));
  expect(CONFIG_VARIABLES.filter((name) => !documented.has(name))).toEqual([]);
  expect(CONFIG_VARIABLES.length).toBeGreaterThan(40);
});
