import type { OrdersModule } from '../../../server/modules/orders';
import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { ManualClock } from '../../support/clock';
import { registerUser } from '../../support/users';
import { placeCardOrder } from '../../support/orders';

const clock = new ManualClock(Date.now());
let t: TestApp;
let vendor: Vendor;
beforeAll(async () => {
  t = await startTestApp({ deps: { clock } });
  vendor = await openStore(t.request);
});
afterAll(() => t.close());

const stockOf = async (productId: string) =>
  (await t.database.pool.query('SELECT stock FROM products WHERE id = $1', [productId])).rows[0].stock as number;

it('20 concurrent buyers for 5 in stock: exactly 5 orders, 15 × 409 insufficient_stock, stock 0; a cancel restores one', async () => {
  const product = await listProduct(t.request, vendor, { stock: 5, priceCents: 1_500 });
  const buyers = await Promise.all(Array.from({ length: 20 }, () => registerUser(t.request)));
  const results = await Promise.all(
    buyers.map((b) =>
      t.request
        .post('/api/orders')
        .set('Cookie', b.cookie)
        .send({ items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' }),
    ),
  );
  const created = results.filter((r) => r.status === 201);
  const refused = results.filter((r) => r.status === 409);
  expect(created).toHaveLength(5);
  expect(refused).toHaveLength(15);
  for (const r of refused) {
    expect(r.body.error.code).toBe('insufficient_stock');
    expect(r.body.error.details.productId).toBe(product.id);
  }
  expect(await stockOf(product.id)).toBe(0);
  const { rows } = await t.database.pool.query('SELECT coalesce(sum(quantity), 0)::int AS sold FROM order_items WHERE product_id = $1', [
    product.id,
  ]);
  expect(rows[0].sold).toBe(5);

  const winner = buyers[results.indexOf(created[0]!)]!;
  const cancelled = await t.request.post(`/api/orders/${created[0]!.body.order.id}/cancel`).set('Cookie', winner.cookie).expect(200);
  expect(cancelled.body.order.status).toBe('cancelled');
  expect(await stockOf(product.id)).toBe(1);
  const again = await t.request.post(`/api/orders/${created[0]!.body.order.id}/cancel`).set('Cookie', winner.cookie).expect(409);
  expect(again.body.error.code).toBe('order_not_cancellable');
  expect(await stockOf(product.id)).toBe(1);
}, 60_000);

it('a multi-item order is all-or-nothing: one short line leaves every stock untouched', async () => {
  const plenty = await listProduct(t.request, vendor, { stock: 10 });
  const scarce = await listProduct(t.request, vendor, { stock: 1 });
  const buyer = await registerUser(t.request);
  const res = await t.request
    .post('/api/orders')
    .set('Cookie', buyer.cookie)
    .send({
      items: [
        { productId: plenty.id, quantity: 3 },
        { productId: scarce.id, quantity: 2 },
      ],
      paymentMethod: 'card',
    })
    .expect(409);
  expect(res.body.error.details).toMatchObject({ productId: scarce.id, requested: 2, available: 1 });
  expect(await stockOf(plenty.id)).toBe(10);
  expect(await stockOf(scarce.id)).toBe(1);
  expect((await t.database.pool.query('SELECT count(*)::int AS n FROM orders WHERE buyer_id = $1', [buyer.id])).rows[0].n).toBe(0);
});

it('the total comes from the database prices, and repeated lines are merged', async () => {
  const a = await listProduct(t.request, vendor, { stock: 10, priceCents: 250 });
  const b = await listProduct(t.request, vendor, { stock: 10, priceCents: 1_000 });
  const buyer = await registerUser(t.request);
  const res = await t.request
    .post('/api/orders')
    .set('Cookie', buyer.cookie)
    .send({
      items: [
        { productId: a.id, quantity: 1 },
        { productId: b.id, quantity: 2 },
        { productId: a.id, quantity: 1 },
      ],
      paymentMethod: 'card',
    })
    .expect(201);
  expect(res.body.order).toMatchObject({ status: 'pending', totalCents: 2 * 250 + 2 * 1_000, currency: 'usd' });
  expect(res.body.order.items).toHaveLength(2);
  expect(await stockOf(a.id)).toBe(8);
});

it('an unpaid card order holds its stock for ORDER_CARD_HOLD_MINUTES (15), then the sweep expires it and the stock comes back', async () => {
  const product = await listProduct(t.request, vendor, { stock: 2 });
  const buyer = await registerUser(t.request);
  const order = await placeCardOrder(t.request, buyer, [{ productId: product.id, quantity: 2 }]);
  expect(Date.parse(order.expiresAt) - clock.now()).toBe(15 * 60_000);
  const orders = t.app.modules.find((m) => m.name === 'orders') as OrdersModule;
  clock.advance(14 * 60_000);
  await orders.sweepExpiredOrders();
  expect(await stockOf(product.id)).toBe(0);
  clock.advance(2 * 60_000);
  expect(await orders.sweepExpiredOrders()).toBeGreaterThanOrEqual(1);
  expect(await stockOf(product.id)).toBe(2);
  const after = await t.request.get(`/api/orders/${order.id}`).set('Cookie', buyer.cookie).expect(200);
  expect(after.body.order.status).toBe('expired');
  // The cached product detail shows the released stock.
  expect((await t.request.get(`/api/products/${product.id}`).expect(200)).body.product.stock).toBe(2);
});

it('an order is visible to its buyer and to a vendor of its items; anyone else gets 404', async () => {
  const product = await listProduct(t.request, vendor, { stock: 3 });
  const buyer = await registerUser(t.request);
  const stranger = await registerUser(t.request);
  const otherVendor = await openStore(t.request);
  const order = await placeCardOrder(t.request, buyer, [{ productId: product.id, quantity: 1 }]);
  await t.request.get(`/api/orders/${order.id}`).set('Cookie', buyer.cookie).expect(200);
  await t.request.get(`/api/orders/${order.id}`).set('Cookie', vendor.cookie).expect(200);
  await t.request.get(`/api/orders/${order.id}`).set('Cookie', stranger.cookie).expect(404);
  await t.request.get(`/api/orders/${order.id}`).set('Cookie', otherVendor.cookie).expect(404);
  await t.request.post(`/api/orders/${order.id}/cancel`).set('Cookie', stranger.cookie).expect(404);
  await t.request.get(`/api/orders/${order.id}`).expect(401);
  const mine = await t.request.get('/api/orders').set('Cookie', buyer.cookie).expect(200);
  expect(mine.body.items.map((o: { id: string }) => o.id)).toEqual([order.id]);
  expect((await t.request.get('/api/orders').set('Cookie', stranger.cookie).expect(200)).body.items).toEqual([]);
});

it.each([
  ['no items', { items: [], paymentMethod: 'card' }],
  ['a zero quantity', { items: [{ productId: '00000000-0000-4000-8000-000000000000', quantity: 0 }], paymentMethod: 'card' }],
  ['a fractional quantity', { items: [{ productId: '00000000-0000-4000-8000-000000000000', quantity: 1.5 }], paymentMethod: 'card' }],
  ['a bad product id', { items: [{ productId: 'x', quantity: 1 }], paymentMethod: 'card' }],
  ['an unknown payment method', { items: [{ productId: '00000000-0000-4000-8000-000000000000', quantity: 1 }], paymentMethod: 'cash' }],
  ['crypto without a coin', { items: [{ productId: '00000000-0000-4000-8000-000000000000', quantity: 1 }], paymentMethod: 'crypto' }],
  [
    'a client-supplied price',
    { items: [{ productId: '00000000-0000-4000-8000-000000000000', quantity: 1, priceCents: 1 }], paymentMethod: 'card' },
  ],
])('%s is a 400', async (_name, body) => {
  const buyer = await registerUser(t.request);
  const res = await t.request.post('/api/orders').set('Cookie', buyer.cookie).send(body).expect(400);
  expect(res.body.error.code).toBe('validation_failed');
});

it('an unknown product is a 404 naming it', async () => {
  const buyer = await registerUser(t.request);
  const res = await t.request
    .post('/api/orders')
    .set('Cookie', buyer.cookie)
    .send({ items: [{ productId: '00000000-0000-4000-8000-000000000000', quantity: 1 }], paymentMethod: 'card' })
    .expect(404);
  expect(res.body.error.code).toBe('product_not_found');
});

it('without BTCPay configured, a crypto order is a 503 crypto_payments_unavailable before any stock is taken', async () => {
  const product = await listProduct(t.request, vendor, { stock: 2, priceCents: 1_000 });
  const buyer = await registerUser(t.request);
  const res = await t.request
    .post('/api/orders')
    .set('Cookie', buyer.cookie)
    .send({ items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'crypto', cryptoCurrency: 'BTC' })
    .expect(503);
  expect(res.body.error.code).toBe('crypto_payments_unavailable');
  expect(await stockOf(product.id)).toBe(2);
  const placed = await t.database.pool.query('SELECT count(*)::int AS n FROM orders WHERE buyer_id = $1', [buyer.id]);
  expect(placed.rows[0].n).toBe(0);
});
