import type { OrdersModule } from '../../../server/modules/orders';
import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { placeCardOrder } from '../../support/orders';
import { deliverStripeEvent, signStripeEvent } from '../../support/stripe-events';
import { registerUser, type SignedInUser } from '../../support/users';

/*
 * The orders module's primitives for the admin console, called as the admin routes will: inside
 * a unit of work of the caller's. Review orders come about as in production: a Stripe success
 * for an order already cancelled (its stock released), or an amount that does not match.
 */
const WEBHOOK_SECRET = 'whsec_test_review';
let t: TestApp;
let orders: OrdersModule;
let vendor: Vendor;
let buyer: SignedInUser;
beforeAll(async () => {
  t = await startTestApp({ env: { STRIPE_SECRET_KEY: 'sk_test_fake_key_1234567890', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } });
  orders = t.app.modules.find((m) => m.name === 'orders') as OrdersModule;
  vendor = await openStore(t.request, 'Review Store');
  buyer = await registerUser(t.request);
});
afterAll(() => t.close());

const stockOf = async (productId: string) => (await t.request.get(`/api/products/${productId}`).expect(200)).body.product.stock as number;
const statusOf = async (orderId: string) =>
  (await t.database.pool.query<{ status: string }>('SELECT status FROM orders WHERE id = $1', [orderId])).rows[0]!.status;

function pay(order: { id: string; totalCents: number }, amount = order.totalCents) {
  const event = signStripeEvent(WEBHOOK_SECRET, 'payment_intent.succeeded', {
    id: `pi_${order.id.replace(/-/g, '')}`,
    object: 'payment_intent',
    amount,
    amount_received: amount,
    currency: 'usd',
    metadata: { orderId: order.id },
  });
  return deliverStripeEvent(t.request, event).expect(200);
}

/** A product and an order of `quantity` of it that was cancelled, then paid: in review, its stock released. */
async function reviewOrder(stock: number, quantity: number) {
  const product = await listProduct(t.request, vendor, { priceCents: 1_500, stock });
  const order = await placeCardOrder(t.request, buyer, [{ productId: product.id, quantity }]);
  await t.request.post(`/api/orders/${order.id}/cancel`).set('Cookie', buyer.cookie).expect(200);
  await pay(order);
  expect(await statusOf(order.id)).toBe('review');
  expect(await stockOf(product.id)).toBe(stock);
  return { product, order };
}

async function paidOrder(stock: number, quantity: number) {
  const product = await listProduct(t.request, vendor, { priceCents: 700, stock });
  const order = await placeCardOrder(t.request, buyer, [{ productId: product.id, quantity }]);
  await pay(order);
  return { product, order };
}

describe('acceptReviewOrder', () => {
  it('when the stock is there, then the order is paid, its stock taken again, and buyer and store hear of it as for a payment', async () => {
    const { product, order } = await reviewOrder(5, 2);
    const { before, after } = await t.database.transaction((unit) => orders.acceptReviewOrder(unit, order.id));
    expect(before).toMatchObject({ id: order.id, status: 'review', buyerEmail: buyer.email });
    expect(after).toMatchObject({
      id: order.id,
      status: 'paid',
      buyerEmail: buyer.email,
      fulfilments: [{ vendorId: vendor.vendorId, status: 'paid' }],
    });
    expect(after.paidAt).not.toBeNull();
    expect(await statusOf(order.id)).toBe('paid');
    expect(await stockOf(product.id)).toBe(3);
    const mails = await t.database.pool.query('SELECT dedupe_key FROM email_outbox WHERE dedupe_key IN ($1, $2)', [
      `order-paid-buyer:${order.id}`,
      `order-paid-vendor:${order.id}:${vendor.vendorId}`,
    ]);
    expect(mails.rowCount).toBe(2);
    const pushed = (await t.request.get('/api/notifications').set('Cookie', vendor.cookie).expect(200)).body.notifications;
    expect(
      pushed.some((n: { type: string; payload: { orderId: string } }) => n.type === 'order.paid' && n.payload.orderId === order.id),
    ).toBe(true);
    // The store can now fulfil it.
    await t.request.patch(`/api/vendors/me/orders/${order.id}`).set('Cookie', vendor.cookie).send({ status: 'processing' }).expect(200);
  });

  it('when the stock has gone meanwhile, then it is 409 insufficient_stock and nothing changes', async () => {
    const { product, order } = await reviewOrder(3, 3);
    await t.request.patch(`/api/products/${product.id}`).set('Cookie', vendor.cookie).send({ stock: 2 }).expect(200);
    await expect(t.database.transaction((unit) => orders.acceptReviewOrder(unit, order.id))).rejects.toMatchObject({
      status: 409,
      code: 'insufficient_stock',
    });
    expect(await statusOf(order.id)).toBe('review');
    expect(await stockOf(product.id)).toBe(2);
    const mails = await t.database.pool.query('SELECT 1 FROM email_outbox WHERE dedupe_key = $1', [`order-paid-buyer:${order.id}`]);
    expect(mails.rowCount).toBe(0);
  });

  it('when the order is not in review, then 409 invalid_transition; when there is no such order, 404', async () => {
    const { order } = await paidOrder(2, 1);
    await expect(t.database.transaction((unit) => orders.acceptReviewOrder(unit, order.id))).rejects.toMatchObject({
      status: 409,
      code: 'invalid_transition',
      details: { current: 'paid', requested: 'paid' },
    });
    await expect(
      t.database.transaction((unit) => orders.acceptReviewOrder(unit, '00000000-0000-4000-8000-000000000000')),
    ).rejects.toMatchObject({ status: 404 });
  });

  it('when a pending order is paid a wrong amount, then it goes to review with its stock released, so accepting it takes the stock once', async () => {
    const product = await listProduct(t.request, vendor, { priceCents: 1_000, stock: 4 });
    const order = await placeCardOrder(t.request, buyer, [{ productId: product.id, quantity: 1 }]);
    expect(await stockOf(product.id)).toBe(3);
    await pay(order, 10);
    expect(await statusOf(order.id)).toBe('review');
    expect(await stockOf(product.id)).toBe(4);
    await t.database.transaction((unit) => orders.acceptReviewOrder(unit, order.id));
    expect(await stockOf(product.id)).toBe(3);
  });
});

describe('markOrderRefunded', () => {
  it('when a paid order is refunded, then it is refunded with the amount recorded and its stock is back', async () => {
    const { product, order } = await paidOrder(5, 2);
    expect(await stockOf(product.id)).toBe(3);
    const { before, after } = await t.database.transaction((unit) => orders.markOrderRefunded(unit, order.id, order.totalCents));
    expect(before.status).toBe('paid');
    expect(after.status).toBe('refunded');
    expect(await stockOf(product.id)).toBe(5);
    expect(await orders.findOrderForRefund(order.id)).toMatchObject({ status: 'refunded', refundedCents: order.totalCents });
    // Twice is refused, and nothing is released again.
    await expect(t.database.transaction((unit) => orders.markOrderRefunded(unit, order.id, order.totalCents))).rejects.toMatchObject({
      status: 409,
      code: 'invalid_transition',
    });
    expect(await stockOf(product.id)).toBe(5);
  });

  it('when a shipped order is refunded, then its goods are with the buyer and its stock stays as it is', async () => {
    const { product, order } = await paidOrder(5, 1);
    const ship = (body: Record<string, string>) =>
      t.request.patch(`/api/vendors/me/orders/${order.id}`).set('Cookie', vendor.cookie).send(body).expect(200);
    await ship({ status: 'processing' });
    await ship({ status: 'shipped', carrier: 'DHL', trackingNumber: 'R1' });
    await t.database.transaction((unit) => orders.markOrderRefunded(unit, order.id, order.totalCents));
    expect(await statusOf(order.id)).toBe('refunded');
    expect(await stockOf(product.id)).toBe(4);
    // The buyer still sees how far it had come.
    const seen = (await t.request.get(`/api/orders/${order.id}`).set('Cookie', buyer.cookie).expect(200)).body.order;
    expect(seen.fulfilments).toEqual([expect.objectContaining({ status: 'shipped', trackingNumber: 'R1' })]);
  });

  it('when a review order is refunded, then nothing is released (it holds no stock); an unknown order is 404', async () => {
    const { product, order } = await reviewOrder(4, 1);
    await t.database.transaction((unit) => orders.markOrderRefunded(unit, order.id, order.totalCents));
    expect(await stockOf(product.id)).toBe(4);
    await expect(
      t.database.transaction((unit) => orders.markOrderRefunded(unit, '00000000-0000-4000-8000-000000000000', 1)),
    ).rejects.toMatchObject({ status: 404 });
  });
});

describe('a refund reported by Stripe follows the same rule', () => {
  it.each([
    ['processing', 5],
    ['shipped', 4],
  ] as const)('when an order that is %s is refunded in full, then its stock is %i', async (reached, stock) => {
    const { product, order } = await paidOrder(5, 1);
    const step = (body: Record<string, string>) =>
      t.request.patch(`/api/vendors/me/orders/${order.id}`).set('Cookie', vendor.cookie).send(body).expect(200);
    await step({ status: 'processing' });
    if (reached === 'shipped') await step({ status: 'shipped', carrier: 'DHL', trackingNumber: 'W1' });
    const refund = signStripeEvent(WEBHOOK_SECRET, 'charge.refunded', {
      id: `ch_${order.id}`,
      object: 'charge',
      amount: order.totalCents,
      amount_refunded: order.totalCents,
      payment_intent: `pi_${order.id.replace(/-/g, '')}`,
    });
    await deliverStripeEvent(t.request, refund).expect(200);
    await deliverStripeEvent(t.request, refund).expect(200);
    expect(await statusOf(order.id)).toBe('refunded');
    expect(await stockOf(product.id)).toBe(stock);
  });
});

describe('findOrderForRefund and listOrdersForAdmin', () => {
  it('when asked for a refund, then the order gives its payment references; an unknown one is undefined', async () => {
    const { order } = await paidOrder(1, 1);
    expect(await orders.findOrderForRefund(order.id)).toEqual({
      id: order.id,
      status: 'paid',
      paymentMethod: 'card',
      totalCents: order.totalCents,
      refundedCents: 0,
      currency: 'usd',
      stripePaymentIntentId: `pi_${order.id.replace(/-/g, '')}`,
      cryptoInvoiceId: null,
    });
    expect(await orders.findOrderForRefund('00000000-0000-4000-8000-000000000000')).toBeUndefined();
  });

  it('when the console lists review orders, then only those, newest first, page by page', async () => {
    const a = (await reviewOrder(1, 1)).order;
    const b = (await reviewOrder(1, 1)).order;
    const first = await orders.listOrdersForAdmin({ status: 'review', limit: 1 });
    expect(first.orders.map((o) => o.id)).toEqual([b.id]);
    expect(first.orders[0]).toMatchObject({ status: 'review', buyerId: buyer.id, buyerEmail: buyer.email, view: 'buyer' });
    const second = await orders.listOrdersForAdmin({ status: 'review', limit: 1, cursor: first.nextCursor! });
    expect(second.orders.map((o) => o.id)).toEqual([a.id]);
    const all = await orders.listOrdersForAdmin({ status: 'review', limit: 100 });
    expect(all.orders.every((o) => o.status === 'review')).toBe(true);
    expect(all.nextCursor).toBeNull();
  });
});
