import type supertest from 'supertest';
import type { OrderView } from '../../shared/contracts';
import type { OrdersModule } from '../../server/modules/orders';
import type { TestApp } from './app';
import { listProduct, type Vendor } from './catalogue';
import type { ManualClock } from './clock';
import type { FakeStripe } from './fake-stripe';
import { deliverStripeEvent, signStripeEvent } from './stripe-events';
import type { SignedInUser } from './users';

/** Places a card order as `buyer` through the API (expects 201) and returns the order. */
export async function placeCardOrder(
  request: ReturnType<typeof supertest>,
  buyer: Pick<SignedInUser, 'cookie'>,
  items: ReadonlyArray<{ productId: string; quantity: number }>,
): Promise<OrderView> {
  const res = await request.post('/api/orders').set('Cookie', buyer.cookie).send({ items, paymentMethod: 'card' }).expect(201);
  return res.body.order;
}

/** Places a crypto order as `buyer` through the API (expects 201: BTCPay configured) and returns the order. */
export async function placeCryptoOrder(
  request: ReturnType<typeof supertest>,
  buyer: Pick<SignedInUser, 'cookie'>,
  items: ReadonlyArray<{ productId: string; quantity: number }>,
  cryptoCurrency = 'BTC',
): Promise<OrderView> {
  const res = await request
    .post('/api/orders')
    .set('Cookie', buyer.cookie)
    .send({ items, paymentMethod: 'crypto', cryptoCurrency })
    .expect(201);
  return res.body.order;
}

/**
 * A card order that lands in review the way it does in production: `buyer` orders `quantity` of a
 * new product of `vendor`, starts paying, the hold ends and the sweep releases the stock, and then
 * Stripe (holding a succeeded intent) reports the payment succeeded.
 */
export async function placeLatePaidCardOrder(
  setup: { t: TestApp; stripe: FakeStripe; clock: ManualClock; webhookSecret: string; vendor: Vendor; buyer: SignedInUser },
  product: { stock: number; priceCents: number; quantity: number },
): Promise<{ order: OrderView; product: { id: string }; paymentIntentId: string }> {
  const { t, stripe, clock, webhookSecret, vendor, buyer } = setup;
  const listed = await listProduct(t.request, vendor, { stock: product.stock, priceCents: product.priceCents });
  const order = await placeCardOrder(t.request, buyer, [{ productId: listed.id, quantity: product.quantity }]);
  const intent = await t.request.post(`/api/orders/${order.id}/payment-intent`).set('Cookie', buyer.cookie).expect(200);
  const paymentIntentId = intent.body.paymentIntentId as string;
  clock.advance(16 * 60_000);
  Object.assign(stripe.intents.get(paymentIntentId)!, { status: 'succeeded', amount_received: order.totalCents });
  await (t.app.modules.find((m) => m.name === 'orders') as OrdersModule).sweepExpiredOrders();
  const event = signStripeEvent(webhookSecret, 'payment_intent.succeeded', {
    id: paymentIntentId,
    amount: order.totalCents,
    amount_received: order.totalCents,
    currency: 'usd',
    metadata: { orderId: order.id },
  });
  await deliverStripeEvent(t.request, event).expect(200);
  const { rows } = await t.database.pool.query('SELECT status FROM orders WHERE id = $1', [order.id]);
  expect(rows[0].status).toBe('review');
  return { order, product: listed, paymentIntentId };
}
