import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { placeCardOrder } from '../../support/orders';
import { deliverStripeEvent, signStripeEvent } from '../../support/stripe-events';
import { registerUser, type SignedInUser } from '../../support/users';
import { TestWsClient } from '../../support/ws-client';

/*
 * A store's orders and its part of their fulfilment: each store sees and moves only its own
 * lines; the order shows the least advanced store's part; the buyer is mailed and pushed each step.
 */
const WEBHOOK_SECRET = 'whsec_test_fulfilment';
let t: TestApp;
let hats: Vendor;
let shoes: Vendor;
let buyer: SignedInUser;
let hat: { id: string };
let boot: { id: string };
beforeAll(async () => {
  t = await startTestApp({ env: { STRIPE_SECRET_KEY: 'sk_test_fake_key_1234567890', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } });
  hats = await openStore(t.request, 'Hats');
  shoes = await openStore(t.request, 'Shoes');
  buyer = await registerUser(t.request, { name: 'Bea Buyer' });
  hat = await listProduct(t.request, hats, { priceCents: 2_000, stock: 50 });
  boot = await listProduct(t.request, shoes, { priceCents: 9_000, stock: 50 });
});
afterAll(() => t.close());

async function paidOrder(
  items = [
    { productId: hat.id, quantity: 2 },
    { productId: boot.id, quantity: 1 },
  ],
) {
  const order = await placeCardOrder(t.request, buyer, items);
  const event = signStripeEvent(WEBHOOK_SECRET, 'payment_intent.succeeded', {
    id: `pi_${order.id.replace(/-/g, '')}`,
    object: 'payment_intent',
    amount: order.totalCents,
    amount_received: order.totalCents,
    currency: order.currency,
    metadata: { orderId: order.id },
  });
  await deliverStripeEvent(t.request, event).expect(200);
  return order;
}

const advance = (vendor: Vendor, orderId: string, body: Record<string, unknown>) =>
  t.request.patch(`/api/vendors/me/orders/${orderId}`).set('Cookie', vendor.cookie).send(body);
const buyerView = async (orderId: string) =>
  (await t.request.get(`/api/orders/${orderId}`).set('Cookie', buyer.cookie).expect(200)).body.order;
const shipping = { status: 'shipped', carrier: 'DHL', trackingNumber: 'JD0123' };

describe('GET /api/vendors/me/orders', () => {
  it("when a store lists its orders, then it sees only its lines, their subtotal, the buyer's name and its own part", async () => {
    const order = await paidOrder();
    const unpaid = await placeCardOrder(t.request, buyer, [{ productId: hat.id, quantity: 1 }]);
    const { items } = (await t.request.get('/api/vendors/me/orders').set('Cookie', hats.cookie).expect(200)).body;
    const mine = items.find((o: { id: string }) => o.id === order.id);
    expect(mine).toMatchObject({
      status: 'paid',
      buyer: { name: 'Bea Buyer' },
      subtotalCents: 4_000,
      currency: 'usd',
      fulfilment: { vendorId: hats.vendorId, storeName: 'Hats', status: 'paid', carrier: null, trackingNumber: null },
    });
    expect(mine.items.map((i: { productId: string }) => i.productId)).toEqual([hat.id]);
    // Neither the other store's lines, nor the order's total, nor the buyer's address.
    expect(JSON.stringify(mine)).not.toContain(boot.id);
    expect(JSON.stringify(mine)).not.toContain(String(order.totalCents));
    expect(JSON.stringify(mine)).not.toContain(buyer.email);
    // An unpaid order is nothing to ship.
    expect(items.some((o: { id: string }) => o.id === unpaid.id)).toBe(false);
    await t.request.post(`/api/orders/${unpaid.id}/cancel`).set('Cookie', buyer.cookie).expect(200);
  });

  it('when a store pages through its orders or filters by its own part, then the pages are newest first and the filter holds', async () => {
    const older = await paidOrder([{ productId: hat.id, quantity: 1 }]);
    const newer = await paidOrder([{ productId: hat.id, quantity: 1 }]);
    await advance(hats, newer.id, { status: 'processing' }).expect(200);
    const first = (await t.request.get('/api/vendors/me/orders?limit=1').set('Cookie', hats.cookie).expect(200)).body;
    expect(first.items.map((o: { id: string }) => o.id)).toEqual([newer.id]);
    const second = (await t.request.get(`/api/vendors/me/orders?limit=1&cursor=${first.nextCursor}`).set('Cookie', hats.cookie).expect(200))
      .body;
    expect(second.items.map((o: { id: string }) => o.id)).toEqual([older.id]);

    const processing = (await t.request.get('/api/vendors/me/orders?status=processing').set('Cookie', hats.cookie).expect(200)).body;
    expect(processing.items.map((o: { id: string }) => o.id)).toEqual([newer.id]);
    const waiting = (await t.request.get('/api/vendors/me/orders?status=paid').set('Cookie', hats.cookie).expect(200)).body;
    expect(waiting.items.map((o: { id: string }) => o.id)).toContain(older.id);
    expect(waiting.items.map((o: { id: string }) => o.id)).not.toContain(newer.id);
    await t.request.get('/api/vendors/me/orders?status=pending').set('Cookie', hats.cookie).expect(400);
    await t.request.get('/api/vendors/me/orders?cursor=nope').set('Cookie', hats.cookie).expect(400);
  });

  it('when a buyer asks for vendor orders, then it is 403; signed out, 401', async () => {
    await t.request.get('/api/vendors/me/orders').set('Cookie', buyer.cookie).expect(403);
    await t.request.patch(`/api/vendors/me/orders/${hat.id}`).set('Cookie', buyer.cookie).send({ status: 'processing' }).expect(403);
    await t.request.get('/api/vendors/me/orders').expect(401);
  });
});

describe('PATCH /api/vendors/me/orders/:orderId', () => {
  it('when two stores fulfil one order, then the order shows the least advanced part until both are delivered, and the buyer sees each part', async () => {
    const order = await paidOrder();
    const ws = await TestWsClient.connect(await t.listen(), { cookie: buyer.cookie });
    try {
      const started = (await advance(hats, order.id, { status: 'processing' }).expect(200)).body.order;
      // Shoes has not started: the order is as far as its least advanced store, still paid.
      expect(started).toMatchObject({ status: 'paid', fulfilment: { status: 'processing' }, subtotalCents: 4_000 });
      const pushed = await ws.next((f) => f.type === 'notification' && (f.notification as { type: string }).type === 'order.fulfilment');
      expect((pushed.notification as { payload: unknown }).payload).toMatchObject({
        orderId: order.id,
        vendorId: hats.vendorId,
        storeName: 'Hats',
        status: 'processing',
        orderStatus: 'paid',
      });
      // Hats ships; shoes has still not started.
      const shipped = (await advance(hats, order.id, shipping).expect(200)).body.order;
      expect(shipped).toMatchObject({ status: 'paid', fulfilment: { status: 'shipped', carrier: 'DHL', trackingNumber: 'JD0123' } });
      expect(shipped.fulfilment.shippedAt).not.toBeNull();
      const seen = await buyerView(order.id);
      expect(seen.status).toBe('paid');
      expect(seen.fulfilments).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            vendorId: hats.vendorId,
            storeName: 'Hats',
            status: 'shipped',
            carrier: 'DHL',
            trackingNumber: 'JD0123',
          }),
          expect.objectContaining({ vendorId: shoes.vendorId, storeName: 'Shoes', status: 'paid', carrier: null }),
        ]),
      );
      expect(seen.fulfilments).toHaveLength(2);

      await advance(shoes, order.id, { status: 'processing' }).expect(200);
      expect((await buyerView(order.id)).status).toBe('processing');
      await advance(shoes, order.id, { ...shipping, trackingNumber: 'UPS9' }).expect(200);
      expect((await buyerView(order.id)).status).toBe('shipped');
      await advance(hats, order.id, { status: 'delivered' }).expect(200);
      expect((await buyerView(order.id)).status).toBe('shipped');
      const done = (await advance(shoes, order.id, { status: 'delivered' }).expect(200)).body.order;
      expect(done.status).toBe('delivered');
      const final = await buyerView(order.id);
      expect(final.status).toBe('delivered');
      expect(final.fulfilments.every((f: { deliveredAt: string | null }) => f.deliveredAt !== null)).toBe(true);
      // The buyer's list shows the same parts.
      const listed = (await t.request.get('/api/orders').set('Cookie', buyer.cookie).expect(200)).body.items;
      expect(listed.find((o: { id: string }) => o.id === order.id).fulfilments).toHaveLength(2);
      // A store reading the order sees only its own part.
      const asHats = (await t.request.get(`/api/orders/${order.id}`).set('Cookie', hats.cookie).expect(200)).body.order;
      expect(asHats.fulfilments.map((f: { vendorId: string }) => f.vendorId)).toEqual([hats.vendorId]);

      const mails = await t.database.pool.query<{ dedupe_key: string; to_email: string; text: string }>(
        'SELECT dedupe_key, to_email, text FROM email_outbox WHERE dedupe_key LIKE $1 ORDER BY dedupe_key',
        [`order-fulfilment:${order.id}:%`],
      );
      expect(mails.rows).toHaveLength(6);
      expect(mails.rows.every((m) => m.to_email === buyer.email)).toBe(true);
      const shippedMail = mails.rows.find((m) => m.dedupe_key === `order-fulfilment:${order.id}:${hats.vendorId}:shipped`);
      expect(shippedMail?.text).toContain('JD0123');
    } finally {
      await ws.close();
    }
  });

  it('when a store skips a step, goes back or repeats one, then it is 409 invalid_transition with both statuses', async () => {
    const order = await paidOrder();
    const skip = await advance(hats, order.id, shipping).expect(409);
    expect(skip.body.error).toMatchObject({ code: 'invalid_transition', details: { current: 'paid', requested: 'shipped' } });
    await advance(hats, order.id, { status: 'delivered' }).expect(409);
    await advance(hats, order.id, { status: 'processing' }).expect(200);
    const again = await advance(hats, order.id, { status: 'processing' }).expect(409);
    expect(again.body.error.details).toEqual({ current: 'processing', requested: 'processing' });
    await advance(hats, order.id, shipping).expect(200);
    const back = await advance(hats, order.id, { status: 'processing' }).expect(409);
    expect(back.body.error.details).toEqual({ current: 'shipped', requested: 'processing' });
  });

  it('when shipping without a carrier or tracking number, or with a malformed body, then it is 400 and nothing moves', async () => {
    const order = await paidOrder();
    await advance(hats, order.id, { status: 'processing' }).expect(200);
    await advance(hats, order.id, { status: 'shipped', carrier: 'DHL' }).expect(400);
    await advance(hats, order.id, { status: 'shipped', trackingNumber: 'X1' }).expect(400);
    await advance(hats, order.id, { status: 'shipped', carrier: '', trackingNumber: 'X1' }).expect(400);
    await advance(hats, order.id, { status: 'paid' }).expect(400);
    await advance(hats, order.id, { ...shipping, extra: 1 }).expect(400);
    await t.request.patch('/api/vendors/me/orders/not-a-uuid').set('Cookie', hats.cookie).send({ status: 'processing' }).expect(400);
    expect((await buyerView(order.id)).fulfilments.find((f: { vendorId: string }) => f.vendorId === hats.vendorId).status).toBe(
      'processing',
    );
  });

  it('when a store moves an order without its lines, or one that does not exist, then it is 404, as if it did not exist', async () => {
    const hatsOnly = await paidOrder([{ productId: hat.id, quantity: 1 }]);
    const res = await advance(shoes, hatsOnly.id, { status: 'processing' }).expect(404);
    expect(res.body.error.code).toBe('not_found');
    await advance(shoes, '00000000-0000-4000-8000-000000000000', { status: 'processing' }).expect(404);
    expect((await buyerView(hatsOnly.id)).status).toBe('paid');
  });

  it('when the order is unpaid or cancelled, then it is 409 order_not_fulfillable', async () => {
    const unpaid = await placeCardOrder(t.request, buyer, [{ productId: hat.id, quantity: 1 }]);
    expect((await advance(hats, unpaid.id, { status: 'processing' }).expect(409)).body.error.code).toBe('order_not_fulfillable');
    await t.request.post(`/api/orders/${unpaid.id}/cancel`).set('Cookie', buyer.cookie).expect(200);
    expect((await advance(hats, unpaid.id, { status: 'processing' }).expect(409)).body.error.details).toEqual({ status: 'cancelled' });
  });

  it('when both stores move the same order at the same moment, then neither step is lost and the order follows both', async () => {
    const order = await paidOrder();
    await Promise.all([
      advance(hats, order.id, { status: 'processing' }).expect(200),
      advance(shoes, order.id, { status: 'processing' }).expect(200),
    ]);
    let seen = await buyerView(order.id);
    expect(seen.status).toBe('processing');
    expect(seen.fulfilments.map((f: { status: string }) => f.status)).toEqual(['processing', 'processing']);
    await Promise.all([advance(hats, order.id, shipping).expect(200), advance(shoes, order.id, shipping).expect(200)]);
    seen = await buyerView(order.id);
    expect(seen.status).toBe('shipped');
    expect(seen.fulfilments.map((f: { status: string }) => f.status)).toEqual(['shipped', 'shipped']);
  });
});
