import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore } from '../../support/catalogue';
import { ManualClock } from '../../support/clock';
import { type FakeBtcpay, startFakeBtcpay } from '../../support/fake-btcpay';
import { coinGeckoPrices, type FakeProvider, price, startFakeProvider } from '../../support/fake-crypto-providers';
import { registerUser } from '../../support/users';

const clock = new ManualClock(Date.now());
let gecko: FakeProvider;
// Crypto orders are placed with a BTCPay invoice.
let btcpay: FakeBtcpay;
let t: TestApp;
beforeAll(async () => {
  gecko = await startFakeProvider(clock, coinGeckoPrices());
  btcpay = await startFakeBtcpay();
  t = await startTestApp({ deps: { clock }, env: { COINGECKO_API_URL: `${gecko.url}/api/v3`, ...btcpay.env } });
});
afterAll(async () => {
  await t.close();
  await gecko.close();
  await btcpay.close();
});

it('a crypto order stores a quote: amount in the coin, rate, tier, source and a 15-minute expiry', async () => {
  const vendor = await openStore(t.request);
  const product = await listProduct(t.request, vendor, { priceCents: 912_345, stock: 3 });
  const buyer = await registerUser(t.request);
  const res = await t.request
    .post('/api/orders')
    .set('Cookie', buyer.cookie)
    .send({ items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'crypto', cryptoCurrency: 'BTC' })
    .expect(201);
  const { crypto } = res.body.order;
  expect(crypto).toMatchObject({ symbol: 'BTC', rate: price('BTC'), tier: 'fresh', source: 'coingecko' });
  expect(Number(crypto.amount)).toBeCloseTo(9_123.45 / price('BTC'), 6);
  expect(Date.parse(crypto.expiresAt) - clock.now()).toBe(15 * 60_000);
  // The order itself holds its stock for ORDER_EXPIRY_MINUTES (30), longer than a card order's 15: coins take a while to arrive.
  expect(Date.parse(res.body.order.expiresAt) - clock.now()).toBe(30 * 60_000);
  const stored = await t.database.pool.query('SELECT crypto_symbol, crypto_amount, crypto_rate_tier FROM orders WHERE id = $1', [
    res.body.order.id,
  ]);
  expect(stored.rows[0]).toMatchObject({ crypto_symbol: 'BTC', crypto_rate_tier: 'fresh' });
});

it('crypto orders count towards ORDER_MAX_OPEN_UNPAID too: a 4th unpaid one is a 409 too_many_open_orders', async () => {
  const vendor = await openStore(t.request);
  const product = await listProduct(t.request, vendor, { priceCents: 1_000, stock: 10 });
  const buyer = await registerUser(t.request);
  const order = () =>
    t.request
      .post('/api/orders')
      .set('Cookie', buyer.cookie)
      .send({ items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'crypto', cryptoCurrency: 'ETH' });
  for (let i = 0; i < 3; i++) await order().expect(201);
  expect((await order().expect(409)).body.error.code).toBe('too_many_open_orders');
  expect((await t.database.pool.query('SELECT stock FROM products WHERE id = $1', [product.id])).rows[0].stock).toBe(7);
});

it('with only hardcoded rates left, no crypto order is taken and no stock is held', async () => {
  const vendor = await openStore(t.request);
  const product = await listProduct(t.request, vendor, { priceCents: 1_000, stock: 1 });
  const buyer = await registerUser(t.request);
  gecko.answer(() => ({ status: 500, body: { error: 'down' } }));
  clock.advance(2 * 60 * 60_000);
  const res = await t.request
    .post('/api/orders')
    .set('Cookie', buyer.cookie)
    .send({ items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'crypto', cryptoCurrency: 'ETH' })
    .expect(503);
  expect(res.body.error.code).toBe('crypto_rates_unavailable');
  expect((await t.database.pool.query('SELECT stock FROM products WHERE id = $1', [product.id])).rows[0].stock).toBe(1);
});
