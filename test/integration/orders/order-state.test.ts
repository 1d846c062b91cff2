import type { OrdersModule } from '../../../server/modules/orders';
import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { ManualClock } from '../../support/clock';
import { type FakeStripe, startFakeStripe } from '../../support/fake-stripe';
import { registerUser, type SignedInUser } from '../../support/users';
import { deliverStripeEvent, signStripeEvent } from '../../support/stripe-events';

/*
 * Every provider event, in every order of arrival, through the real webhook route with signed
 * Stripe events: the order ends where the transition table says and never moves backwards.
 */
const WEBHOOK_SECRET = 'whsec_test_order_state';
const clock = new ManualClock(Date.now());
const PRICE = 1_000;

let stripe: FakeStripe;
let t: TestApp;
let vendor: Vendor;
let buyer: SignedInUser;
beforeAll(async () => {
  stripe = await startFakeStripe();
  t = await startTestApp({
    deps: { clock },
    env: {
      STRIPE_SECRET_KEY: 'sk_test_fake_key_1234567890',
      STRIPE_PUBLISHABLE_KEY: 'pk_test_fake_key',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_URL: stripe.url,
    },
  });
  vendor = await openStore(t.request);
  buyer = await registerUser(t.request);
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

type Arrival = 'succeeded' | 'failed' | 'partial_refund' | 'full_refund';

interface CardOrder {
  id: string;
  productId: string;
  paymentIntentId: string;
}

async function placeCardOrder(): Promise<CardOrder> {
  const product = await listProduct(t.request, vendor, { priceCents: PRICE, stock: 3 });
  const res = await t.request
    .post('/api/orders')
    .set('Cookie', buyer.cookie)
    .send({ items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' })
    .expect(201);
  const intent = await t.request.post(`/api/orders/${res.body.order.id}/payment-intent`).set('Cookie', buyer.cookie).expect(200);
  return { id: res.body.order.id, productId: product.id, paymentIntentId: intent.body.paymentIntentId };
}

const signedEvent = (type: string, object: Record<string, unknown>) =>
  signStripeEvent(WEBHOOK_SECRET, type, object, { createdMs: clock.now() });

function eventFor(order: CardOrder, arrival: Arrival) {
  const intent = { id: order.paymentIntentId, amount: PRICE, amount_received: PRICE, currency: 'usd', metadata: { orderId: order.id } };
  switch (arrival) {
    case 'succeeded':
      return signedEvent('payment_intent.succeeded', intent);
    case 'failed':
      return signedEvent('payment_intent.payment_failed', intent);
    case 'partial_refund':
      return signedEvent('charge.refunded', {
        id: `ch_${order.id}`,
        object: 'charge',
        amount: PRICE,
        amount_refunded: 300,
        payment_intent: order.paymentIntentId,
      });
    case 'full_refund':
      return signedEvent('charge.refunded', {
        id: `ch_${order.id}`,
        object: 'charge',
        amount: PRICE,
        amount_refunded: PRICE,
        payment_intent: order.paymentIntentId,
      });
  }
}

async function deliver(order: CardOrder, arrival: Arrival) {
  await deliverStripeEvent(t.request, eventFor(order, arrival)).expect(200);
}

async function stateOf(order: CardOrder) {
  const { rows } = await t.database.pool.query('SELECT status, refunded_cents FROM orders WHERE id = $1', [order.id]);
  const stock = await t.database.pool.query('SELECT stock FROM products WHERE id = $1', [order.productId]);
  return { status: rows[0].status as string, refundedCents: rows[0].refunded_cents as number, stock: stock.rows[0].stock as number };
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

// How far along an order is: a later event may only keep or raise it.
const progress: Record<string, number> = { pending: 0, paid: 1, failed: 1, review: 2, refunded: 3 };

// The reserved unit stays sold when the success arrived before the failure and no full refund came (nothing was shipped).
const sold = (arrivals: readonly Arrival[]) =>
  arrivals.indexOf('succeeded') < arrivals.indexOf('failed') && !arrivals.includes('full_refund');

describe('every order of arrival of success, failure, partial and full refund', () => {
  const all: Arrival[] = ['succeeded', 'failed', 'partial_refund', 'full_refund'];
  it.each(permutations(all).map((p) => [p.join(' → '), p] as const))('%s ends refunded, never going backwards', async (_name, arrivals) => {
    const order = await placeCardOrder();
    let reached = 0;
    for (const arrival of arrivals) {
      await deliver(order, arrival);
      const { status } = await stateOf(order);
      expect(progress[status]).toBeGreaterThanOrEqual(reached);
      reached = progress[status]!;
    }
    const final = await stateOf(order);
    expect(final).toMatchObject({ status: 'refunded', refundedCents: PRICE });
    // Failed, or refunded before anything shipped: its reserved unit is back on sale, once.
    expect(final.stock).toBe(3);
  });

  it.each(permutations<Arrival>(['succeeded', 'failed', 'partial_refund']).map((p) => [p.join(' → '), p] as const))(
    '%s ends paid (in review when the failure came first) with the partial refund recorded',
    async (_name, arrivals) => {
      const order = await placeCardOrder();
      for (const arrival of arrivals) await deliver(order, arrival);
      // A failure first ended the order and released its stock, so the money arriving after it is a human's call.
      expect(await stateOf(order)).toEqual(
        sold(arrivals) ? { status: 'paid', refundedCents: 300, stock: 2 } : { status: 'review', refundedCents: 300, stock: 3 },
      );
    },
  );

  it('a success delivered twice pays once; a failure after it changes nothing; a late partial refund never lowers a full one', async () => {
    const order = await placeCardOrder();
    await deliver(order, 'succeeded');
    await deliver(order, 'succeeded');
    await deliver(order, 'failed');
    expect(await stateOf(order)).toEqual({ status: 'paid', refundedCents: 0, stock: 2 });
    await deliver(order, 'full_refund');
    await deliver(order, 'partial_refund');
    // Refunded before it shipped: the unit is back on sale.
    expect(await stateOf(order)).toEqual({ status: 'refunded', refundedCents: PRICE, stock: 3 });
  });
});

describe('the buyer and the expiry job go through the same table', () => {
  it('a paid order cannot be cancelled; a late success after cancel goes to review, and a refund then ends it', async () => {
    const paid = await placeCardOrder();
    await deliver(paid, 'succeeded');
    await t.request.post(`/api/orders/${paid.id}/cancel`).set('Cookie', buyer.cookie).expect(409);
    expect((await stateOf(paid)).status).toBe('paid');

    const cancelled = await placeCardOrder();
    await t.request.post(`/api/orders/${cancelled.id}/cancel`).set('Cookie', buyer.cookie).expect(200);
    await deliver(cancelled, 'failed');
    expect((await stateOf(cancelled)).status).toBe('cancelled');
    await deliver(cancelled, 'succeeded');
    expect(await stateOf(cancelled)).toMatchObject({ status: 'review', stock: 3 });
    await deliver(cancelled, 'full_refund');
    expect((await stateOf(cancelled)).status).toBe('refunded');
  });

  it('a late success after expiry goes to review; a refunded order is neither expired nor cancelled', async () => {
    const late = await placeCardOrder();
    const refunded = await placeCardOrder();
    await deliver(refunded, 'full_refund');
    clock.advance(31 * 60_000);
    const orders = t.app.modules.find((m) => m.name === 'orders') as OrdersModule;
    await orders.sweepExpiredOrders();
    expect(await stateOf(late)).toMatchObject({ status: 'expired', stock: 3 });
    expect(await stateOf(refunded)).toMatchObject({ status: 'refunded', stock: 3 });
    await t.request.post(`/api/orders/${refunded.id}/cancel`).set('Cookie', buyer.cookie).expect(409);
    await deliver(late, 'succeeded');
    expect((await stateOf(late)).status).toBe('review');
  });
});
