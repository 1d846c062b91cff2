import { CRYPTO_ONLY_PRODUCTION_ENV } from '../../support/production-env';
import { findProductionProblems, loadConfig, parseConfig } from '../../../server/lib/config';

// Everything production needs when the shop takes only crypto and sends no mail through Brevo.
const CRYPTO_ONLY_ENV = {
  ...CRYPTO_ONLY_PRODUCTION_ENV,
  DATABASE_URL: 'postgresql://app:s3cr3t-db-pass@db.internal:5432/marketplace',
};
const STRIPE_TEST_KEYS = {
  STRIPE_SECRET_KEY: 'sk_test_51HxYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
  STRIPE_PUBLISHABLE_KEY: 'pk_test_51HxYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
  STRIPE_WEBHOOK_SECRET: 'whsec_AbCdEfGhIjKlMnOpQrStUvWxYz012345',
};
const variablesOf = (problems: { variable: string }[]) => problems.map((p) => p.variable).sort();

describe('deploy profiles', () => {
  it('a crypto-only shop (STRIPE_ENABLED=false, EMAIL_DRIVER=log) is deployable with no Stripe or Brevo key', () => {
    expect(findProductionProblems(CRYPTO_ONLY_ENV)).toEqual([]);
    const config = loadConfig(CRYPTO_ONLY_ENV);
    expect(config).toMatchObject({ STRIPE_ENABLED: false, EMAIL_DRIVER: 'log', PAYMENTS_MODE: 'live' });
  });

  it('with card payments off, production refuses a shop without BTCPay Server: it could sell nothing', () => {
    const { BTCPAY_URL, BTCPAY_API_KEY, BTCPAY_STORE_ID, BTCPAY_WEBHOOK_SECRET, ...noBtcpay } = CRYPTO_ONLY_ENV;
    const problems = findProductionProblems(noBtcpay);
    expect(variablesOf(problems)).toEqual(['BTCPAY_URL']);
    expect(problems[0]!.message).toMatch(/STRIPE_ENABLED=false.*can sell nothing/);
    // With cards on, crypto is optional.
    expect(findProductionProblems({ ...noBtcpay, STRIPE_ENABLED: 'true', PAYMENTS_MODE: 'test', ...STRIPE_TEST_KEYS })).toEqual([]);
  });

  it('BTCPay settings are all four or none: a partial set names the missing ones, in any environment; its secrets are masked', () => {
    const partial = parseConfig({ NODE_ENV: 'test', BTCPAY_URL: 'https://btcpay.example.com', BTCPAY_API_KEY: 'k'.repeat(40) });
    expect(partial.ok).toBe(false);
    const messages = partial.ok ? [] : partial.problems.map((p) => `${p.variable}: ${p.message}`);
    expect(messages).toEqual([expect.stringMatching(/^BTCPAY_STORE_ID: .*missing BTCPAY_STORE_ID, BTCPAY_WEBHOOK_SECRET$/)]);
    expect(parseConfig({ NODE_ENV: 'test' }).ok).toBe(true);
    const badUrl = parseConfig({ ...CRYPTO_ONLY_ENV, BTCPAY_URL: 'not a url', BTCPAY_WEBHOOK_SECRET: 'whs-1234567890abcdef' });
    const shown = badUrl.ok ? '' : JSON.stringify(badUrl.problems);
    expect(shown).toContain('BTCPAY_URL');
    expect(shown).not.toContain(CRYPTO_ONLY_ENV.BTCPAY_API_KEY);
  });

  it('Stripe test keys pass in production only with PAYMENTS_MODE=test, and live keys only in live mode', () => {
    const stripeOn = { ...CRYPTO_ONLY_ENV, STRIPE_ENABLED: 'true', ...STRIPE_TEST_KEYS };
    const refused = findProductionProblems(stripeOn);
    expect(variablesOf(refused)).toEqual(['STRIPE_PUBLISHABLE_KEY', 'STRIPE_SECRET_KEY']);
    expect(refused.find((p) => p.variable === 'STRIPE_SECRET_KEY')!.message).toMatch(/sk_live_.*PAYMENTS_MODE=test/);

    expect(findProductionProblems({ ...stripeOn, PAYMENTS_MODE: 'test' })).toEqual([]);
    expect(loadConfig({ ...stripeOn, PAYMENTS_MODE: 'test' }).PAYMENTS_MODE).toBe('test');

    const liveKeysInTestMode = findProductionProblems({
      ...stripeOn,
      PAYMENTS_MODE: 'test',
      STRIPE_SECRET_KEY: 'sk_live_51HxYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
    });
    expect(variablesOf(liveKeysInTestMode)).toEqual(['STRIPE_SECRET_KEY']);
    expect(liveKeysInTestMode[0]!.message).toMatch(/sk_test_/);
    const unknownMode = parseConfig({ ...stripeOn, PAYMENTS_MODE: 'staging' });
    expect(unknownMode.ok ? [] : variablesOf(unknownMode.problems)).toContain('PAYMENTS_MODE');
  });

  it('Stripe on (the default) still needs every Stripe variable in production', () => {
    const { STRIPE_ENABLED: _, ...stripeDefault } = CRYPTO_ONLY_ENV;
    expect(variablesOf(findProductionProblems(stripeDefault))).toEqual([
      'STRIPE_PUBLISHABLE_KEY',
      'STRIPE_SECRET_KEY',
      'STRIPE_WEBHOOK_SECRET',
    ]);
  });

  it('e-mail: brevo (the production default) needs BREVO_API_KEY; log needs none; development without a key logs', () => {
    const { EMAIL_DRIVER: _, ...emailDefault } = CRYPTO_ONLY_ENV;
    const missing = findProductionProblems(emailDefault);
    expect(variablesOf(missing)).toEqual(['BREVO_API_KEY']);
    expect(missing[0]!.message).toMatch(/EMAIL_DRIVER=log/);
    expect(variablesOf(findProductionProblems({ ...CRYPTO_ONLY_ENV, EMAIL_DRIVER: 'brevo' }))).toEqual(['BREVO_API_KEY']);
    expect(findProductionProblems({ ...CRYPTO_ONLY_ENV, EMAIL_DRIVER: 'brevo', BREVO_API_KEY: 'xkeysib-0123456789abcdef' })).toEqual([]);

    expect(loadConfig({}).EMAIL_DRIVER).toBe('log');
    expect(loadConfig({ BREVO_API_KEY: 'xkeysib-0123' }).EMAIL_DRIVER).toBe('brevo');
    // Asking for Brevo without a key is a mistake anywhere, not a silent fallback to the log.
    const result = parseConfig({ EMAIL_DRIVER: 'brevo' });
    expect(result.ok ? [] : variablesOf(result.problems)).toEqual(['BREVO_API_KEY']);
  });

  it('an https APP_ORIGIN with TRUST_PROXY off is refused, explaining the dropped Secure cookie; trusting the proxy or an http origin is fine', () => {
    for (const off of [undefined, 'false', '0', '']) {
      const problems = findProductionProblems({ ...CRYPTO_ONLY_ENV, APP_ORIGIN: 'https://shop.example.com', TRUST_PROXY: off });
      expect(variablesOf(problems)).toEqual(['TRUST_PROXY']);
      expect(problems[0]!.message).toMatch(/Secure session cookie is dropped/);
      expect(problems[0]!.message).toMatch(/X-Forwarded-Proto/);
    }
    expect(findProductionProblems({ ...CRYPTO_ONLY_ENV, APP_ORIGIN: 'https://shop.example.com', TRUST_PROXY: '1' })).toEqual([]);
    expect(findProductionProblems({ ...CRYPTO_ONLY_ENV, APP_ORIGIN: 'https://shop.example.com', TRUST_PROXY: '10.0.0.0/8' })).toEqual([]);
    expect(findProductionProblems({ ...CRYPTO_ONLY_ENV, APP_ORIGIN: 'http://intranet.local:5000' })).toEqual([]);
  });

  it('an API-only deploy (no APP_ORIGIN) serving an https storefront in CORS_ORIGINS with TRUST_PROXY off is refused too', () => {
    // The setup: shop.example.com calls api.example.com behind a TLS proxy. An https page
    // can only call an https API, so the cookie would be Secure and dropped just the same.
    const apiOnly = { ...CRYPTO_ONLY_ENV, CORS_ORIGINS: 'http://127.0.0.1:5173, https://shop.example.com' };
    const problems = findProductionProblems({ ...apiOnly, TRUST_PROXY: 'false' });
    expect(variablesOf(problems)).toEqual(['TRUST_PROXY']);
    expect(problems[0]!.message).toMatch(
      /CORS_ORIGINS has an https page \(https:\/\/shop\.example\.com\).*Secure session cookie is dropped/,
    );
    expect(findProductionProblems({ ...apiOnly, TRUST_PROXY: '1' })).toEqual([]);
    expect(findProductionProblems({ ...CRYPTO_ONLY_ENV, CORS_ORIGINS: 'http://intranet.local:8080' })).toEqual([]);
    // SameSite=None (a storefront on another site) is deployable there once the proxy is trusted.
    expect(findProductionProblems({ ...apiOnly, TRUST_PROXY: '1', SESSION_COOKIE_SAMESITE: 'none' })).toEqual([]);
  });
});

describe('image URLs on an https site', () => {
  it('an http PUBLIC_BASE_URL is refused when the site is https (an https page never loads http images)', () => {
    const httpsSite = { ...CRYPTO_ONLY_ENV, APP_ORIGIN: 'https://shop.example.com', TRUST_PROXY: '1' };
    const problems = findProductionProblems({ ...httpsSite, PUBLIC_BASE_URL: 'http://cdn.example.com' });
    expect(variablesOf(problems)).toEqual(['PUBLIC_BASE_URL']);
    expect(problems[0]!.message).toMatch(/mixed content/);
    expect(
      variablesOf(
        findProductionProblems({
          ...CRYPTO_ONLY_ENV,
          CORS_ORIGINS: 'https://shop.example.com',
          TRUST_PROXY: '1',
          PUBLIC_BASE_URL: 'http://api.example.com',
        }),
      ),
    ).toEqual(['PUBLIC_BASE_URL']);
    expect(findProductionProblems(httpsSite)).toEqual([]);
    // An http site (an intranet) may serve http images.
    expect(
      findProductionProblems({
        ...CRYPTO_ONLY_ENV,
        APP_ORIGIN: 'http://intranet.local:5000',
        PUBLIC_BASE_URL: 'http://intranet.local:5000',
      }),
    ).toEqual([]);
  });
});

describe('session cookie options', () => {
  it('defaults: sid, SameSite=Lax, no domain', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ SESSION_COOKIE_NAME: 'sid', SESSION_COOKIE_SAMESITE: 'lax' });
    expect(config.SESSION_COOKIE_DOMAIN).toBeUndefined();
  });

  it('SameSite=None is refused in production without an https APP_ORIGIN (browsers need it Secure)', () => {
    const none = { ...CRYPTO_ONLY_ENV, SESSION_COOKIE_SAMESITE: 'none' };
    expect(variablesOf(findProductionProblems(none))).toEqual(['SESSION_COOKIE_SAMESITE']);
    expect(variablesOf(findProductionProblems({ ...none, APP_ORIGIN: 'http://shop.example.com' }))).toEqual(['SESSION_COOKIE_SAMESITE']);
    expect(findProductionProblems({ ...none, APP_ORIGIN: 'https://shop.example.com', TRUST_PROXY: '1' })).toEqual([]);
  });

  it('a name that is not a cookie token, a domain that is not a host name, a SameSite outside lax|strict|none, or a __Host- name with a domain are each named', () => {
    const problemsOf = (env: Record<string, string>) => {
      const result = parseConfig(env);
      return result.ok ? [] : variablesOf(result.problems);
    };
    expect(problemsOf({ SESSION_COOKIE_NAME: 'my session' })).toEqual(['SESSION_COOKIE_NAME']);
    expect(problemsOf({ SESSION_COOKIE_NAME: 'sid;x=1' })).toEqual(['SESSION_COOKIE_NAME']);
    expect(problemsOf({ SESSION_COOKIE_DOMAIN: 'https://example.com' })).toEqual(['SESSION_COOKIE_DOMAIN']);
    expect(problemsOf({ SESSION_COOKIE_SAMESITE: 'None; Secure' })).toEqual(['SESSION_COOKIE_SAMESITE']);
    expect(problemsOf({ SESSION_COOKIE_NAME: '__Host-sid', SESSION_COOKIE_DOMAIN: 'example.com' })).toEqual(['SESSION_COOKIE_DOMAIN']);
    expect(loadConfig({ SESSION_COOKIE_NAME: '__Host-sid' }).SESSION_COOKIE_NAME).toBe('__Host-sid');
    expect(loadConfig({ SESSION_COOKIE_DOMAIN: '.example.com' }).SESSION_COOKIE_DOMAIN).toBe('.example.com');
  });
});
