import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { type FakeBrevo, startFakeBrevo } from '../../support/fake-brevo';
import { type FakeStripe, startFakeStripe } from '../../support/fake-stripe';
import { waitForLog } from '../../support/logger';
import { TestWsClient } from '../../support/ws-client';
import { registerUser, type SignedInUser } from '../../support/users';
import { deliverStripeEvent, signStripeEvent } from '../../support/stripe-events';
import { placeCardOrder as placeOrder } from '../../support/orders';

const WEBHOOK_SECRET = 'whsec_test_secret_for_signatures';

let stripe: FakeStripe;
let brevo: FakeBrevo;
let t: TestApp;
let vendor: Vendor;
beforeAll(async () => {
  stripe = await startFakeStripe();
  brevo = await startFakeBrevo();
  t = await startTestApp({
    env: {
      STRIPE_SECRET_KEY: 'sk_test_fake_key_1234567890',
      STRIPE_PUBLISHABLE_KEY: 'pk_test_fake_key',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_URL: stripe.url,
      BREVO_API_KEY: 'xkeysib-test-key',
      BREVO_API_URL: `${brevo.url}/v3`,
      JOBS_POLL_INTERVAL_MS: '500',
      EMAIL_RETRY_DELAY_S: '1',
    },
  });
  vendor = await openStore(t.request);
});
afterAll(async () => {
  await t.close();
  await stripe.close();
  await brevo.close();
});

async function placeCardOrder(buyer: SignedInUser, priceCents = 4_200, quantity = 1) {
  const product = await listProduct(t.request, vendor, { priceCents, stock: 10 });
  return await placeOrder(t.request, buyer, [{ productId: product.id, quantity }]);
}

const signedEvent = (type: string, object: Record<string, unknown>, id?: string) => signStripeEvent(WEBHOOK_SECRET, type, object, { id });

const deliver = (event: { payload: string; signature: string }) => deliverStripeEvent(t.request, event);

/** Waits for the outbox to record these mails as sent (it logs after the row is marked). */
async function outboxSent(where: string, value: string) {
  const { rows } = await t.database.pool.query(`SELECT id FROM email_outbox WHERE ${where}`, [value]);
  for (const row of rows) await waitForLog(t.logs, new RegExp(`\\[EMAIL\\] Sent \\w+ mail ${row.id}`));
  return (await t.database.pool.query(`SELECT status, provider_message_id FROM email_outbox WHERE ${where}`, [value])).rows;
}

const orderStatus = async (id: string) =>
  (await t.database.pool.query('SELECT status FROM orders WHERE id = $1', [id])).rows[0].status as string;

describe('payment intents', () => {
  it('are created through Stripe with the amount from the database, keyed by the order, and returned again on a second call', async () => {
    const buyer = await registerUser(t.request);
    const order = await placeCardOrder(buyer, 4_200, 2);
    const first = await t.request.post(`/api/orders/${order.id}/payment-intent`).set('Cookie', buyer.cookie).expect(200);
    expect(first.body).toMatchObject({ publishableKey: 'pk_test_fake_key', clientSecret: expect.stringMatching(/^pi_.*_secret_/) });
    const second = await t.request.post(`/api/orders/${order.id}/payment-intent`).set('Cookie', buyer.cookie).expect(200);
    expect(second.body.paymentIntentId).toBe(first.body.paymentIntentId);
    expect(second.body.clientSecret).toBe(first.body.clientSecret);

    const creates = stripe.requests.filter((r) => r.method === 'POST' && new URLSearchParams(r.text).get('metadata[orderId]') === order.id);
    expect(creates).toHaveLength(1);
    const form = new URLSearchParams(creates[0]!.text);
    expect(form.get('amount')).toBe('8400');
    expect(form.get('currency')).toBe('usd');
    expect(creates[0]!.headers['idempotency-key']).toBe(`order-payment-intent:${order.id}`);
    expect(creates[0]!.headers.authorization).toBe('Bearer sk_test_fake_key_1234567890');
  });

  it('concurrent first calls still yield one intent (Stripe idempotency by order)', async () => {
    const buyer = await registerUser(t.request);
    const order = await placeCardOrder(buyer);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => t.request.post(`/api/orders/${order.id}/payment-intent`).set('Cookie', buyer.cookie)),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(new Set(results.map((r) => r.body.paymentIntentId)).size).toBe(1);
  });

  it('another buyer gets 404; a cancelled order is not payable', async () => {
    const buyer = await registerUser(t.request);
    const stranger = await registerUser(t.request);
    const order = await placeCardOrder(buyer);
    await t.request.post(`/api/orders/${order.id}/payment-intent`).set('Cookie', stranger.cookie).expect(404);
    await t.request.post(`/api/orders/${order.id}/cancel`).set('Cookie', buyer.cookie).expect(200);
    const res = await t.request.post(`/api/orders/${order.id}/payment-intent`).set('Cookie', buyer.cookie).expect(409);
    expect(res.body.error.code).toBe('order_not_payable');
  });

  it('without Stripe keys the endpoint answers 503 payments_not_configured', async () => {
    const bare = await startTestApp();
    try {
      const seller = await openStore(bare.request);
      const buyer = await registerUser(bare.request);
      const product = await listProduct(bare.request, seller);
      const order = await placeOrder(bare.request, buyer, [{ productId: product.id, quantity: 1 }]);
      const res = await bare.request.post(`/api/orders/${order.id}/payment-intent`).set('Cookie', buyer.cookie).expect(503);
      expect(res.body.error.code).toBe('payments_not_configured');
    } finally {
      await bare.close();
    }
  });
});

describe('webhooks', () => {
  it('6 concurrent deliveries of one payment_intent.succeeded: all 2xx, paid once, one confirmation mail, one vendor mail', async () => {
    const buyer = await registerUser(t.request);
    const order = await placeCardOrder(buyer, 1_999);
    const event = signedEvent('payment_intent.succeeded', {
      id: 'pi_concurrent',
      object: 'payment_intent',
      amount: 1_999,
      amount_received: 1_999,
      currency: 'usd',
      metadata: { orderId: order.id },
    });
    const results = await Promise.all(Array.from({ length: 6 }, () => deliver(event)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(results.filter((r) => r.body.duplicate === false)).toHaveLength(1);
    expect(await orderStatus(order.id)).toBe('paid');
    const { rows } = await t.database.pool.query('SELECT outcome FROM stripe_events WHERE id = $1', [event.id]);
    expect(rows).toEqual([{ outcome: 'paid' }]);

    const toBuyer = await brevo.waitForDelivered(3, buyer.email); // welcome + verification link + confirmation
    await brevo.waitForDelivered(3, vendor.email); // welcome + verification link + new order
    expect(toBuyer.filter((m) => /confirmed/.test(m.subject))).toHaveLength(1);
    // And nothing else is queued that could send it again.
    const outbox = await outboxSent('dedupe_key LIKE $1', `order-paid-%${order.id}%`);
    expect(outbox.map((r) => r.status)).toEqual(['sent', 'sent']);
  });

  it('a forged signature is a 400 and changes nothing', async () => {
    const buyer = await registerUser(t.request);
    const order = await placeCardOrder(buyer, 500);
    const event = signedEvent('payment_intent.succeeded', {
      id: 'pi_forged',
      amount: 500,
      amount_received: 500,
      currency: 'usd',
      metadata: { orderId: order.id },
    });
    const tampered = { payload: event.payload.replace('"amount":500', '"amount":5'), signature: event.signature };
    const res = await deliver(tampered).expect(400);
    expect(res.body.error.code).toBe('invalid_signature');
    await deliver({ payload: event.payload, signature: 't=1,v1=deadbeef' }).expect(400);
    await t.request.post('/api/stripe/webhook').set('Content-Type', 'application/json').send(event.payload).expect(400);
    expect(await orderStatus(order.id)).toBe('pending');
    expect((await t.database.pool.query('SELECT 1 FROM stripe_events WHERE id = $1', [event.id])).rowCount).toBe(0);
  });

  it('an unsigned body is never parsed: deeply nested or malformed JSON is an invalid_signature, not an invalid_json', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    for (const body of [deep, '{"a": ']) {
      const res = await deliver({ payload: body, signature: 't=1,v1=deadbeef' }).expect(400);
      expect(res.body.error.code).toBe('invalid_signature');
    }
  });

  it('an amount that does not match the order is not paid but left for review', async () => {
    const buyer = await registerUser(t.request);
    const order = await placeCardOrder(buyer, 3_000);
    const event = signedEvent('payment_intent.succeeded', {
      id: 'pi_short',
      amount: 30,
      amount_received: 30,
      currency: 'usd',
      metadata: { orderId: order.id },
    });
    await deliver(event).expect(200);
    expect(await orderStatus(order.id)).toBe('review');
    expect(t.logs.lines().some((l) => l.includes('Amount mismatch') && l.includes(order.id))).toBe(true);
    const mails = await t.database.pool.query(`SELECT 1 FROM email_outbox WHERE dedupe_key = $1`, [`order-paid-buyer:${order.id}`]);
    expect(mails.rowCount).toBe(0);
  });

  it('charge.refunded marks a paid order refunded', async () => {
    const buyer = await registerUser(t.request);
    const order = await placeCardOrder(buyer, 700);
    const intent = await t.request.post(`/api/orders/${order.id}/payment-intent`).set('Cookie', buyer.cookie).expect(200);
    const piId = intent.body.paymentIntentId;
    await deliver(
      signedEvent('payment_intent.succeeded', {
        id: piId,
        amount: 700,
        amount_received: 700,
        currency: 'usd',
        metadata: { orderId: order.id },
      }),
    ).expect(200);
    await deliver(
      signedEvent('charge.refunded', { id: 'ch_1', object: 'charge', amount: 700, amount_refunded: 700, payment_intent: piId }),
    ).expect(200);
    expect(await orderStatus(order.id)).toBe('refunded');
  });

  it.each(['payment_intent.payment_failed', 'payment_intent.canceled'])(
    'when Stripe sends %s, then the order ends failed and its stock is back at once, released only once; a late success goes to review',
    async (type) => {
      const buyer = await registerUser(t.request);
      const product = await listProduct(t.request, vendor, { priceCents: 900, stock: 10 });
      const stock = async () => (await t.request.get(`/api/products/${product.id}`).expect(200)).body.product.stock as number;
      const order = await placeOrder(t.request, buyer, [{ productId: product.id, quantity: 3 }]);
      expect(await stock()).toBe(7);
      const piId = (await t.request.post(`/api/orders/${order.id}/payment-intent`).set('Cookie', buyer.cookie).expect(200)).body
        .paymentIntentId;
      const intent = { id: piId, object: 'payment_intent', amount: 2_700, currency: 'usd', metadata: { orderId: order.id } };

      const failure = signedEvent(type, intent);
      await deliver(failure).expect(200);
      expect((await t.request.get(`/api/orders/${order.id}`).set('Cookie', buyer.cookie).expect(200)).body.order.status).toBe('failed');
      expect(await stock()).toBe(10);
      const retry = await t.request.post(`/api/orders/${order.id}/payment-intent`).set('Cookie', buyer.cookie).expect(409);
      expect(retry.body.error.code).toBe('order_not_payable');
      // A declined intent could still be retried with another card: it is cancelled at Stripe, so nobody pays for released stock.
      expect(stripe.intents.get(piId)?.status).toBe(type === 'payment_intent.payment_failed' ? 'canceled' : 'requires_payment_method');
      const { notifications } = (await t.request.get('/api/notifications').set('Cookie', buyer.cookie).expect(200)).body;
      expect(notifications).toEqual(
        expect.arrayContaining([expect.objectContaining({ type: 'order.payment_failed', payload: { orderId: order.id } })]),
      );

      // The same failure redelivered, and a second failure of the same intent: the stock is not released twice.
      expect((await deliver(failure).expect(200)).body.duplicate).toBe(true);
      await deliver(signedEvent('payment_intent.payment_failed', intent)).expect(200);
      expect(await stock()).toBe(10);

      await deliver(signedEvent('payment_intent.succeeded', { ...intent, amount_received: 2_700 })).expect(200);
      expect(await orderStatus(order.id)).toBe('review');
      expect(await stock()).toBe(10);
    },
  );
});

describe('notifications', () => {
  it('a paid order is pushed to the vendor over the WebSocket and listed in their notifications', async () => {
    const base = await t.listen();
    const socket = await TestWsClient.connect(base, { cookie: vendor.cookie });
    try {
      const buyer = await registerUser(t.request);
      const order = await placeCardOrder(buyer, 1_234);
      await deliver(
        signedEvent('payment_intent.succeeded', {
          id: 'pi_notify',
          amount: 1_234,
          amount_received: 1_234,
          currency: 'usd',
          metadata: { orderId: order.id },
        }),
      ).expect(200);
      const pushed = await socket.next(
        (f) => f.type === 'notification' && (f.notification as { payload: { orderId: string } }).payload.orderId === order.id,
      );
      expect((pushed.notification as { type: string }).type).toBe('order.paid');
      const listed = await t.request.get('/api/notifications').set('Cookie', vendor.cookie).expect(200);
      expect(JSON.stringify(listed.body)).toContain(order.id);
    } finally {
      socket.socket.close();
    }
  });
});

describe('e-mail outbox', () => {
  const WELCOME = 'Welcome to the marketplace';

  it('a Brevo outage delays the welcome mail without failing sign-up; it arrives once after recovery', async () => {
    brevo.down();
    const email = `outage-${Date.now()}@example.com`;
    const registered = await t.request.post('/api/auth/register').send({ email, password: 'a long password', name: 'Patient' }).expect(201);
    // Two refused sends of this mail (other mails, its address's verification link too, may be retrying at the same time).
    await brevo.waitForRequests(
      2,
      (r) =>
        r.path === '/v3/smtp/email' &&
        r.json<{ to: Array<{ email: string }>; subject: string }>().to[0]?.email === email &&
        r.json<{ subject: string }>().subject === WELCOME,
      15_000,
    );
    const welcome = `welcome:${registered.body.user.id}`;
    const pending = await t.database.pool.query(`SELECT status, attempts FROM email_outbox WHERE dedupe_key = $1`, [welcome]);
    expect(pending.rows[0].status).toBe('pending');
    expect(pending.rows[0].attempts).toBeGreaterThanOrEqual(2);
    brevo.up();
    // The welcome mail and the verification link.
    await brevo.waitForDelivered(2, email);
    const sent = await outboxSent('dedupe_key = $1', welcome);
    expect(sent).toEqual([{ status: 'sent', provider_message_id: expect.stringMatching(/@smtp-relay/) }]);
    expect(brevo.delivered().filter((m) => m.to === email && m.subject === WELCOME)).toHaveLength(1);
    const health = await t.request.get('/api/health').expect(200);
    expect(health.body.components.email).toMatchObject({ transport: 'brevo', backlog: expect.any(Number) });
  });
});
