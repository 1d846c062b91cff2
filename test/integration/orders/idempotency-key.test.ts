import type { OrdersModule } from '../../../server/modules/orders';
import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { ManualClock } from '../../support/clock';
import { registerUser, type SignedInUser } from '../../support/users';

const clock = new ManualClock(Date.now());
let t: TestApp;
let vendor: Vendor;
let orders: OrdersModule;
beforeAll(async () => {
  t = await startTestApp({ deps: { clock }, env: { ORDER_MAX_OPEN_UNPAID: '50' } });
  vendor = await openStore(t.request);
  orders = t.app.modules.find((m) => m.name === 'orders') as OrdersModule;
});
afterAll(() => t.close());

const ordersOf = async (buyer: SignedInUser) =>
  (await t.database.pool.query('SELECT count(*)::int AS n FROM orders WHERE buyer_id = $1', [buyer.id])).rows[0].n as number;

function checkout(buyer: SignedInUser, key: string | undefined, items: Array<{ productId: string; quantity: number }>) {
  const req = t.request.post('/api/orders').set('Cookie', buyer.cookie);
  if (key !== undefined) req.set('Idempotency-Key', key);
  return req.send({ items, paymentMethod: 'card' });
}

it('when the same key and body are sent again, then the same order and status come back (marked replayed) and no second order is placed', async () => {
  const product = await listProduct(t.request, vendor, { stock: 10 });
  const buyer = await registerUser(t.request);
  const items = [{ productId: product.id, quantity: 2 }];
  const first = await checkout(buyer, 'checkout-1', items);
  expect(first.status).toBe(201);
  expect(first.headers['idempotent-replayed']).toBeUndefined();
  const retry = await checkout(buyer, 'checkout-1', items);
  expect(retry.status).toBe(201);
  expect(retry.headers['idempotent-replayed']).toBe('true');
  expect(retry.body).toEqual(first.body);
  expect(retry.text).toBe(first.text);
  expect(await ordersOf(buyer)).toBe(1);
  const stock = await t.database.pool.query('SELECT stock FROM products WHERE id = $1', [product.id]);
  expect(stock.rows[0].stock).toBe(8);
  // Without a key, or with another key, it is a new order.
  expect((await checkout(buyer, undefined, items)).status).toBe(201);
  expect((await checkout(buyer, 'checkout-2', items)).body.order.id).not.toBe(first.body.order.id);
  expect(await ordersOf(buyer)).toBe(3);
});

it('when the same key comes with a different body, then 422 idempotency_key_reused and nothing is placed', async () => {
  const product = await listProduct(t.request, vendor, { stock: 10 });
  const buyer = await registerUser(t.request);
  await checkout(buyer, 'same-key', [{ productId: product.id, quantity: 1 }]).expect(201);
  const other = await checkout(buyer, 'same-key', [{ productId: product.id, quantity: 3 }]);
  expect(other.status).toBe(422);
  expect(other.body.error.code).toBe('idempotency_key_reused');
  expect(await ordersOf(buyer)).toBe(1);
});

it('when two users send the same key, then each gets an order of their own (keys are per user)', async () => {
  const product = await listProduct(t.request, vendor, { stock: 10 });
  const [a, b] = await Promise.all([registerUser(t.request), registerUser(t.request)]);
  const items = [{ productId: product.id, quantity: 1 }];
  const first = await checkout(a, 'shared-key', items).expect(201);
  const second = await checkout(b, 'shared-key', items).expect(201);
  expect(second.body.order.id).not.toBe(first.body.order.id);
  expect(second.headers['idempotent-replayed']).toBeUndefined();
});

it('when duplicates arrive concurrently, then one order is placed and every duplicate gets it', async () => {
  const product = await listProduct(t.request, vendor, { stock: 10 });
  const buyer = await registerUser(t.request);
  const items = [{ productId: product.id, quantity: 1 }];
  const answers = await Promise.all(Array.from({ length: 5 }, () => checkout(buyer, 'tap-tap-tap', items)));
  expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
  expect(new Set(answers.map((a) => a.body.order.id)).size).toBe(1);
  expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(4);
  expect(await ordersOf(buyer)).toBe(1);
});

it('when the placement fails, then no key is stored and a retry with the same key places the order once stock is back', async () => {
  const product = await listProduct(t.request, vendor, { stock: 1 });
  const buyer = await registerUser(t.request);
  const items = [{ productId: product.id, quantity: 2 }];
  expect((await checkout(buyer, 'short', items)).status).toBe(409);
  await t.request.patch(`/api/products/${product.id}`).set('Cookie', vendor.cookie).send({ stock: 5 }).expect(200);
  const retry = await checkout(buyer, 'short', items);
  expect([retry.status, retry.headers['idempotent-replayed']]).toEqual([201, undefined]);
});

it('when a key is malformed (empty, over 255 characters, not printable ASCII), then 400 invalid_idempotency_key', async () => {
  const product = await listProduct(t.request, vendor, { stock: 10 });
  const buyer = await registerUser(t.request);
  const items = [{ productId: product.id, quantity: 1 }];
  for (const key of ['', 'k'.repeat(256), 'tab\there']) {
    const res = await checkout(buyer, key, items);
    expect([res.status, res.body.error.code]).toEqual([400, 'invalid_idempotency_key']);
  }
  expect((await checkout(buyer, 'k'.repeat(255), items)).status).toBe(201);
  expect(await ordersOf(buyer)).toBe(1);
});

it('when 24 h have passed, then the key no longer replays, and the cleanup job deletes it', async () => {
  const product = await listProduct(t.request, vendor, { stock: 10 });
  const buyer = await registerUser(t.request);
  const items = [{ productId: product.id, quantity: 1 }];
  const first = await checkout(buyer, 'day-old', items).expect(201);
  const keysOf = async () =>
    (await t.database.pool.query('SELECT count(*)::int AS n FROM order_idempotency_keys WHERE user_id = $1', [buyer.id])).rows[0].n;
  clock.advance(23 * 60 * 60_000);
  expect(await orders.sweepIdempotencyKeys()).toBe(0);
  expect((await checkout(buyer, 'day-old', items)).body.order.id).toBe(first.body.order.id);
  clock.advance(60 * 60_000 + 1);
  // Expired but not yet swept: a new order, and the key now names it.
  const later = await checkout(buyer, 'day-old', items).expect(201);
  expect(later.body.order.id).not.toBe(first.body.order.id);
  expect((await checkout(buyer, 'day-old', items)).body.order.id).toBe(later.body.order.id);
  expect(await keysOf()).toBe(1);
  clock.advance(24 * 60 * 60_000 + 1);
  expect(await orders.sweepIdempotencyKeys()).toBeGreaterThanOrEqual(1);
  expect(await keysOf()).toBe(0);
});
