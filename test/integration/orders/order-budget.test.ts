import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore } from '../../support/catalogue';
import { registerUser } from '../../support/users';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { RATE_LIMIT_ORDERS_PER_MIN: '10' } });
});
afterAll(() => t.close());

it('one buyer’s 11th order in a minute is a 429 that reserves nothing, while another buyer can still order', async () => {
  const vendor = await openStore(t.request);
  const product = await listProduct(t.request, vendor, { stock: 100 });
  const [buyer, other] = [await registerUser(t.request), await registerUser(t.request)];
  const order = (cookie: string) =>
    t.request
      .post('/api/orders')
      .set('Cookie', cookie)
      .send({ items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' });

  for (let i = 0; i < 10; i++) {
    const placed = await order(buyer.cookie).expect(201);
    // Cancelled at once, so no cap on open orders can be what refuses the 11th.
    await t.request.post(`/api/orders/${placed.body.order.id}/cancel`).set('Cookie', buyer.cookie).expect(200);
  }
  const limited = await order(buyer.cookie).expect(429);
  expect(limited.body.error.code).toBe('rate_limited');
  expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

  await order(other.cookie).expect(201);
  const { rows } = await t.database.pool.query('SELECT stock FROM products WHERE id = $1', [product.id]);
  expect(rows[0].stock).toBe(99);
  const orders = await t.database.pool.query('SELECT count(*)::int AS n FROM orders WHERE buyer_id = $1', [buyer.id]);
  expect(orders.rows[0].n).toBe(10);
});
