import { randomBytes } from 'node:crypto';
import { findProductionProblems } from '../../../server/lib/config';
import { CRYPTO_ONLY_PRODUCTION_ENV } from '../../support/production-env';
import { startTestApp, type TestApp } from '../../support/app';
import { ManualClock } from '../../support/clock';
import { type FakeBtcpay, startFakeBtcpay } from '../../support/fake-btcpay';
import { coinGeckoPrices, type FakeProvider, startFakeProvider } from '../../support/fake-crypto-providers';
import { sidCookie } from '../../support/session-cookie';
import { mailedToken } from '../../support/users';
import { waitFor } from '../../support/wait-for';

/*
 * A shop that takes only crypto and sends mail to the log, started in production mode behind a
 * TLS proxy on loopback (supertest speaks plain http, the proxy header says https), as deployed.
 */
const OPS_TOKEN = 'ops-9f2c7e41b8d35a60c1e4f7a2b9d0c3e8';
const PRODUCTION_ENV = {
  ...CRYPTO_ONLY_PRODUCTION_ENV,
  APP_ORIGIN: 'https://shop.example.com',
  TRUST_PROXY: 'loopback',
  OPS_TOKEN,
};

const clock = new ManualClock(Date.now());
let gecko: FakeProvider;
// Crypto orders are placed with a BTCPay invoice.
let btcpay: FakeBtcpay;
let t: TestApp;
beforeAll(async () => {
  gecko = await startFakeProvider(clock, coinGeckoPrices());
  btcpay = await startFakeBtcpay();
  t = await startTestApp({ deps: { clock }, env: { ...PRODUCTION_ENV, COINGECKO_API_URL: `${gecko.url}/api/v3`, ...btcpay.env } });
});
afterAll(async () => {
  await t.close();
  await gecko.close();
  await btcpay.close();
});

const viaProxy = (method: 'get' | 'post', path: string, cookie?: string) => {
  const req = t.request[method](path).set('X-Forwarded-Proto', 'https');
  return cookie ? req.set('Cookie', cookie) : req;
};

async function signUp(): Promise<{ id: string; email: string; cookie: string }> {
  const email = `crypto-${randomBytes(4).toString('hex')}@example.com`;
  const res = await viaProxy('post', '/api/auth/register').send({ email, password: 'pw-8f3k2m9q1x7z', name: 'Shopper' }).expect(201);
  // Production: the cookie is Secure, and it is sent because the proxy is trusted.
  expect(res.headers['set-cookie']?.[0]).toMatch(/; Secure/);
  return { id: res.body.user.id, email, cookie: sidCookie(res.headers['set-cookie']) };
}

it('the configuration passes the production rules with no Stripe or Brevo key', () => {
  expect(findProductionProblems({ ...PRODUCTION_ENV, DATABASE_URL: t.testDatabase.url })).toEqual([]);
  expect(t.config).toMatchObject({ NODE_ENV: 'production', STRIPE_ENABLED: false, EMAIL_DRIVER: 'log' });
});

it('it sells: a crypto order is placed; a card order, a PaymentIntent and the Stripe webhook answer 503 card_payments_unavailable', async () => {
  const seller = await signUp();
  // Opening a store needs a verified address: the link from the mail, followed through the proxy.
  await viaProxy('post', '/api/auth/verify-email')
    .send({ token: await mailedToken(t, seller.email, 'email_verification') })
    .expect(200);
  const store = await viaProxy('post', '/api/vendors', seller.cookie).send({ storeName: 'Coins Only', description: 'A store' }).expect(201);
  const vendorCookie = sidCookie(store.headers['set-cookie']);
  const product = (
    await viaProxy('post', '/api/products', vendorCookie).send({ title: 'Hardware wallet', priceCents: 12_900, stock: 4 }).expect(201)
  ).body.product;
  const buyer = await signUp();

  const placed = await viaProxy('post', '/api/orders', buyer.cookie)
    .send({ items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'crypto', cryptoCurrency: 'BTC' })
    .expect(201);
  expect(placed.body.order).toMatchObject({ status: 'pending', paymentMethod: 'crypto', crypto: { symbol: 'BTC' } });
  expect(placed.body.order.crypto.checkoutUrl).toBe(btcpay.invoices.get(placed.body.order.crypto.invoiceId)?.checkoutLink);

  const card = await viaProxy('post', '/api/orders', buyer.cookie)
    .send({ items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' })
    .expect(503);
  expect(card.body.error.code).toBe('card_payments_unavailable');
  // The refused card order held no stock.
  expect((await t.database.pool.query('SELECT stock FROM products WHERE id = $1', [product.id])).rows[0].stock).toBe(3);

  const intent = await viaProxy('post', `/api/orders/${placed.body.order.id}/payment-intent`, buyer.cookie).expect(503);
  expect(intent.body.error.code).toBe('card_payments_unavailable');
  const webhook = await viaProxy('post', '/api/stripe/webhook')
    .set('Content-Type', 'application/json')
    .set('Stripe-Signature', 't=1,v1=00')
    .send('{"id":"evt_1","type":"payment_intent.succeeded"}')
    .expect(503);
  expect(webhook.body.error.code).toBe('card_payments_unavailable');
});

it('the operator health shows the payments mode, card payments off and the log e-mail driver', async () => {
  const res = await viaProxy('get', '/api/health').set('Authorization', `Bearer ${OPS_TOKEN}`);
  expect(res.body.components.payments).toMatchObject({
    status: 'ok',
    mode: 'live',
    card: 'disabled',
    provider: 'disabled',
    crypto: 'btcpay',
  });
  expect(res.body.components.email).toMatchObject({ transport: 'log' });
});

it('e-mail goes through the outbox and the job queue as always, and is written to the log instead of sent', async () => {
  const user = await signUp();
  const sent = await waitFor('the welcome mail in the log', async () =>
    t.logs
      .lines()
      .find((line) => line.includes('(not sent: EMAIL_DRIVER=log)') && line.includes(user.email) && line.includes('Subject: Welcome')),
  );
  expect(sent).toMatch(/Subject: /);
  const outbox = await t.database.pool.query(`SELECT status FROM email_outbox WHERE to_email = $1 AND kind = 'welcome'`, [user.email]);
  expect(outbox.rows).toEqual([{ status: 'sent' }]);
});

it('in production the log driver writes who and what, never a mail body: no verification or reset link reaches the log', async () => {
  const user = await signUp();
  await viaProxy('post', '/api/auth/password-reset').send({ email: user.email }).expect(202);
  const token = await mailedToken(t, user.email, 'password_reset');
  await waitFor('the reset mail in the log', async () =>
    t.logs
      .lines()
      .find((line) => line.includes('(not sent: EMAIL_DRIVER=log)') && line.includes(user.email) && line.includes('Subject: Reset')),
  );
  const mentions = t.logs.lines().filter((line) => line.includes(user.email));
  expect(mentions.length).toBeGreaterThanOrEqual(3);
  expect(mentions.some((line) => line.includes('token='))).toBe(false);
  expect(t.logs.lines().some((line) => line.includes(token))).toBe(false);
});
