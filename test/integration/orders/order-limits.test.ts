import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { registerUser, type SignedInUser } from '../../support/users';

/*
 * Stock hoarding: one buyer must not be able to reserve a store's stock with orders they never
 * pay. Defaults: ORDER_MAX_QUANTITY_PER_PRODUCT 10, ORDER_MAX_OPEN_UNPAID 3.
 */
let t: TestApp;
let vendor: Vendor;
beforeAll(async () => {
  t = await startTestApp();
  vendor = await openStore(t.request);
});
afterAll(() => t.close());

const stockOf = async (productId: string) =>
  (await t.database.pool.query('SELECT stock FROM products WHERE id = $1', [productId])).rows[0].stock as number;
const ordersOf = async (buyer: SignedInUser) =>
  (await t.database.pool.query('SELECT count(*)::int AS n FROM orders WHERE buyer_id = $1', [buyer.id])).rows[0].n as number;

const place = (buyer: SignedInUser, items: Array<{ productId: string; quantity: number }>) =>
  t.request.post('/api/orders').set('Cookie', buyer.cookie).send({ items, paymentMethod: 'card' });

it('when one order asks 50 lines × 1000 of one product, then it is a 422 quantity_limit and no stock is reserved', async () => {
  const product = await listProduct(t.request, vendor, { stock: 100_000 });
  const buyer = await registerUser(t.request);
  const res = await place(
    buyer,
    Array.from({ length: 50 }, () => ({ productId: product.id, quantity: 1_000 })),
  ).expect(422);
  expect(res.body.error).toMatchObject({ code: 'quantity_limit', details: { productId: product.id, requested: 50_000, limit: 10 } });
  expect(await stockOf(product.id)).toBe(100_000);
  expect(await ordersOf(buyer)).toBe(0);
});

it('when repeated lines of one product add up past the cap, then 422; exactly the cap is accepted', async () => {
  const product = await listProduct(t.request, vendor, { stock: 100 });
  const other = await listProduct(t.request, vendor, { stock: 100 });
  const buyer = await registerUser(t.request);
  const over = await place(buyer, [
    { productId: product.id, quantity: 6 },
    { productId: other.id, quantity: 10 },
    { productId: product.id, quantity: 5 },
  ]).expect(422);
  expect(over.body.error.details).toEqual({ productId: product.id, requested: 11, limit: 10 });
  await place(buyer, [{ productId: product.id, quantity: 11 }]).expect(422);
  expect(await stockOf(product.id)).toBe(100);

  const ok = await place(buyer, [
    { productId: product.id, quantity: 4 },
    { productId: other.id, quantity: 10 },
    { productId: product.id, quantity: 6 },
  ]).expect(201);
  expect(ok.body.order.items).toHaveLength(2);
  expect(await stockOf(product.id)).toBe(90);
});

it('when the lines name one product in different letter cases, then they are one product for the cap (422, nothing reserved)', async () => {
  const product = await listProduct(t.request, vendor, { stock: 100 });
  const buyer = await registerUser(t.request);
  const upper = product.id.toUpperCase();
  const mixed = product.id.slice(0, 8).toUpperCase() + product.id.slice(8);
  const res = await place(buyer, [
    { productId: product.id, quantity: 10 },
    { productId: upper, quantity: 10 },
    { productId: mixed, quantity: 10 },
  ]).expect(422);
  expect(res.body.error.details).toEqual({ productId: product.id, requested: 30, limit: 10 });
  expect(await stockOf(product.id)).toBe(100);
  // Within the cap, a case variant is the same product: one line.
  const ok = await place(buyer, [{ productId: upper, quantity: 2 }]).expect(201);
  expect(ok.body.order.items).toEqual([expect.objectContaining({ productId: product.id, quantity: 2 })]);
});

it('when a buyer holds 3 unpaid orders, then a 4th is a 409 too_many_open_orders with nothing reserved; cancelling one frees a slot', async () => {
  const product = await listProduct(t.request, vendor, { stock: 100 });
  const buyer = await registerUser(t.request);
  const placed = [];
  for (let i = 0; i < 3; i++) placed.push((await place(buyer, [{ productId: product.id, quantity: 1 }]).expect(201)).body.order);
  const fourth = await place(buyer, [{ productId: product.id, quantity: 1 }]).expect(409);
  expect(fourth.body.error).toMatchObject({ code: 'too_many_open_orders', details: { open: 3, limit: 3 } });
  expect(await stockOf(product.id)).toBe(97);
  expect(await ordersOf(buyer)).toBe(3);

  // Another buyer is not affected by this one's orders.
  await place(await registerUser(t.request), [{ productId: product.id, quantity: 1 }]).expect(201);

  await t.request.post(`/api/orders/${placed[0].id}/cancel`).set('Cookie', buyer.cookie).expect(200);
  await place(buyer, [{ productId: product.id, quantity: 1 }]).expect(201);
  await place(buyer, [{ productId: product.id, quantity: 1 }]).expect(409);
});

it('when one buyer fires 12 orders at once, then exactly 3 are placed and the rest refused: the cap holds under concurrency', async () => {
  const product = await listProduct(t.request, vendor, { stock: 100 });
  const buyer = await registerUser(t.request);
  const results = await Promise.all(Array.from({ length: 12 }, () => place(buyer, [{ productId: product.id, quantity: 2 }])));
  const statuses = results.map((r) => r.status).sort();
  expect(statuses).toEqual([...Array(3).fill(201), ...Array(9).fill(409)]);
  for (const r of results.filter((r) => r.status === 409)) expect(r.body.error.code).toBe('too_many_open_orders');
  expect(await ordersOf(buyer)).toBe(3);
  expect(await stockOf(product.id)).toBe(94);
}, 30_000);

it('the caps are configuration: ORDER_MAX_QUANTITY_PER_PRODUCT and ORDER_MAX_OPEN_UNPAID', async () => {
  const strict = await startTestApp({
    testDatabase: t.testDatabase,
    env: { ORDER_MAX_QUANTITY_PER_PRODUCT: '2', ORDER_MAX_OPEN_UNPAID: '1' },
  });
  try {
    const product = await listProduct(strict.request, vendor, { stock: 100 });
    const buyer = await registerUser(strict.request);
    const send = (quantity: number) =>
      strict.request
        .post('/api/orders')
        .set('Cookie', buyer.cookie)
        .send({ items: [{ productId: product.id, quantity }], paymentMethod: 'card' });
    expect((await send(3).expect(422)).body.error.details.limit).toBe(2);
    await send(2).expect(201);
    expect((await send(1).expect(409)).body.error.code).toBe('too_many_open_orders');
  } finally {
    await strict.close();
  }
});
