import { captureLogger } from '../../support/logger';

const SECRETS = {
  password: 'hunter2-correct-horse',
  cookie: 'sid=s%3AabcDEF123.signatureXYZ',
  bearer: 'eyJhbGciOiJIUzI1NiJ9.payload.sig',
  stripeLive: 'sk_live_51HxYzAbCdEfGhIjKlMn',
  stripeTest: 'sk_test_51HxYzAbCdEfGhIjKlMn',
  webhook: 'whsec_AbCdEf0123456789',
  brevo: 'xkeysib-0123456789abcdef-XyZ',
  geckoKey: 'CG-demo-key-0123456789',
  dbPassword: 'db-pa55word',
  sessionSecret: 'a-very-long-session-secret-value-123456',
};

it('passwords, cookies, authorization headers, API keys and Stripe secrets never reach a log line', () => {
  const { logger, memory } = captureLogger();
  logger.info('login attempt', { email: 'a@example.com', password: SECRETS.password });
  logger.info('incoming request', {
    headers: { cookie: SECRETS.cookie, authorization: `Bearer ${SECRETS.bearer}`, 'x-cg-demo-api-key': SECRETS.geckoKey },
  });
  logger.warn(`Stripe call failed with key ${SECRETS.stripeLive} (test key ${SECRETS.stripeTest})`);
  logger.error(new Error(`Webhook secret ${SECRETS.webhook} rejected; brevo key ${SECRETS.brevo}`));
  logger.info(`connecting to postgresql://app:${SECRETS.dbPassword}@db.example.neon.tech/main`);
  logger.info('config', {
    SESSION_SECRET: SECRETS.sessionSecret,
    BREVO_API_KEY: SECRETS.brevo,
    nested: { apiKey: SECRETS.geckoKey, clientSecret: 'pi_123_secret_456' },
  });
  logger.info(`Set-Cookie: ${SECRETS.cookie}; Path=/; HttpOnly`);

  const lines = memory.lines();
  expect(lines).toHaveLength(7);
  for (const line of lines) for (const secret of Object.values(SECRETS)) expect(line).not.toContain(secret);
  expect(lines.join('\n')).toContain('[REDACTED]');
  // What is not secret stays readable.
  expect(lines[0]).toContain('a@example.com');
  expect(lines[4]).toContain('db.example.neon.tech/main');
});
