import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { type FakeStripe, startFakeStripe, stripeErrorBody } from '../../support/fake-stripe';
import { waitForLog } from '../../support/logger';
import { deliverStripeEvent, signStripeEvent } from '../../support/stripe-events';
import { registerUser, type SignedInUser } from '../../support/users';
import { placeCardOrder as placeOrder } from '../../support/orders';

const SECRET_KEY = 'sk_test_outage_key_must_never_be_logged';
const STRIPE_TIMEOUT_MS = 1_000;

let stripe: FakeStripe;
let t: TestApp;
let vendor: Vendor;
let buyer: SignedInUser;
beforeAll(async () => {
  stripe = await startFakeStripe();
  t = await startTestApp({
    env: {
      STRIPE_SECRET_KEY: SECRET_KEY,
      STRIPE_PUBLISHABLE_KEY: 'pk_test_fake_key',
      STRIPE_WEBHOOK_SECRET: 'whsec_outages',
      STRIPE_API_URL: stripe.url,
      STRIPE_TIMEOUT_MS: String(STRIPE_TIMEOUT_MS),
    },
  });
  vendor = await openStore(t.request);
});
// A fresh buyer per test: every test leaves an unpaid order, and a buyer may hold only ORDER_MAX_OPEN_UNPAID.
beforeEach(async () => {
  buyer = await registerUser(t.request);
});
afterEach(() => stripe.setFault(undefined));
afterAll(async () => {
  await t.close();
  await stripe.close();
});

async function placeCardOrder() {
  const product = await listProduct(t.request, vendor, { priceCents: 1_500, stock: 50 });
  return await placeOrder(t.request, buyer, [{ productId: product.id, quantity: 1 }]);
}

const startPayment = (orderId: string) => t.request.post(`/api/orders/${orderId}/payment-intent`).set('Cookie', buyer.cookie);

function expectProviderUnavailable(res: {
  status: number;
  body: { error?: { code?: string; message?: string } };
  headers: Record<string, string>;
}) {
  expect(res.status).toBe(503);
  expect(res.body.error?.code).toBe('payment_provider_unavailable');
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  // The buyer learns it is the provider's outage, nothing about our configuration.
  expect(JSON.stringify(res.body)).not.toMatch(/sk_|api key|credential/i);
}

describe('payment intents when Stripe is not answering as it should', () => {
  it.each([
    ['unreachable (connection refused)', 'down' as const],
    ['failing with a 500', { status: 500, body: stripeErrorBody('api_error', 'Something went wrong on our end') }],
    ['failing with a 502 and no JSON (a proxy page)', { status: 502, body: '<html>Bad Gateway</html>' }],
  ])('when Stripe is %s, then it is a 503 payment_provider_unavailable with Retry-After, and works again after', async (_, fault) => {
    const order = await placeCardOrder();
    await stripe.setFault(fault);
    expectProviderUnavailable(await startPayment(order.id));
    await stripe.setFault(undefined);
    await startPayment(order.id).expect(200);
  });

  it("when Stripe throttles us (429), then it is a 503 whose Retry-After is Stripe's", async () => {
    const order = await placeCardOrder();
    await stripe.setFault({
      status: 429,
      headers: { 'retry-after': '17' },
      body: stripeErrorBody('rate_limit_error', 'Too many requests'),
    });
    const res = await startPayment(order.id);
    expectProviderUnavailable(res);
    expect(res.headers['retry-after']).toBe('17');
  });

  it.each([
    [401, 'authentication_error', 'Invalid API Key provided: sk_test_****'],
    [403, 'invalid_request_error', 'The provided key does not have access to this resource'],
  ])(
    'when Stripe refuses our key (%i), then the buyer gets a 503 and the operator an error line without the key',
    async (status, type, message) => {
      const order = await placeCardOrder();
      await stripe.setFault({ status, body: stripeErrorBody(type, message) });
      expectProviderUnavailable(await startPayment(order.id));
      const line = await waitForLog(
        t.logs,
        (e) => e.level === 'error' && /\[PAYMENTS\] stripe refused our credentials/.test(String(e.message)),
      );
      expect(JSON.stringify(line)).not.toContain(SECRET_KEY);
      expect(JSON.stringify(t.logs.entries)).not.toContain(SECRET_KEY);
    },
  );

  it('when Stripe declines the card (402 card_error), then it is a 402 card_declined with the decline code', async () => {
    const order = await placeCardOrder();
    await stripe.setFault({
      status: 402,
      body: stripeErrorBody('card_error', 'Your card has insufficient funds.', {
        code: 'card_declined',
        decline_code: 'insufficient_funds',
      }),
    });
    const res = await startPayment(order.id).expect(402);
    expect(res.body.error).toMatchObject({ code: 'card_declined', details: { declineCode: 'insufficient_funds' } });
  });

  it('when Stripe accepts the request and never answers, then the buyer gets a 503 within STRIPE_TIMEOUT_MS (not a hang, not a 500)', async () => {
    const order = await placeCardOrder();
    await stripe.setFault('hang');
    const started = Date.now();
    const res = await startPayment(order.id);
    const elapsed = Date.now() - started;
    expectProviderUnavailable(res);
    expect(elapsed).toBeGreaterThanOrEqual(STRIPE_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(STRIPE_TIMEOUT_MS + 2_000);
  });

  it('when Stripe answers and then trickles the body forever (no idle gap for a socket timeout), then still a 503 within STRIPE_TIMEOUT_MS', async () => {
    const order = await placeCardOrder();
    await stripe.setFault('trickle');
    const started = Date.now();
    const res = await startPayment(order.id);
    const elapsed = Date.now() - started;
    expectProviderUnavailable(res);
    expect(elapsed).toBeLessThan(STRIPE_TIMEOUT_MS + 2_000);
  });
});

describe('cancelling a failed payment when Stripe is not answering', () => {
  it('when Stripe fails while the declined intent is cancelled, then the webhook still answers 200: the order failed, its stock is back, the operator is told', async () => {
    const product = await listProduct(t.request, vendor, { priceCents: 1_500, stock: 4 });
    const order = await placeOrder(t.request, buyer, [{ productId: product.id, quantity: 2 }]);
    const piId = (await startPayment(order.id).expect(200)).body.paymentIntentId as string;
    await stripe.setFault({ status: 500, body: stripeErrorBody('api_error', 'Something went wrong on our end') });
    const failed = signStripeEvent('whsec_outages', 'payment_intent.payment_failed', {
      id: piId,
      object: 'payment_intent',
      amount: 3_000,
      currency: 'usd',
      metadata: { orderId: order.id },
    });
    await deliverStripeEvent(t.request, failed).expect(200);
    const { rows } = await t.database.pool.query('SELECT o.status, p.stock FROM orders o, products p WHERE o.id = $1 AND p.id = $2', [
      order.id,
      product.id,
    ]);
    expect(rows[0]).toEqual({ status: 'failed', stock: 4 });
    await waitForLog(t.logs, new RegExp(`Could not cancel stripe payment ${piId} \\(failing\\)`));
  });
});
