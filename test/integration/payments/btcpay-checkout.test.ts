import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { ManualClock } from '../../support/clock';
import { type FakeBtcpay, startFakeBtcpay } from '../../support/fake-btcpay';
import { coinGeckoPrices, type FakeProvider, price, startFakeProvider } from '../../support/fake-crypto-providers';
import { placeCryptoOrder } from '../../support/orders';
import { registerUser } from '../../support/users';

const clock = new ManualClock(Date.now());
let gecko: FakeProvider;
let btcpay: FakeBtcpay;
let t: TestApp;
let vendor: Vendor;
beforeAll(async () => {
  gecko = await startFakeProvider(clock, coinGeckoPrices());
  btcpay = await startFakeBtcpay();
  t = await startTestApp({
    deps: { clock },
    env: { COINGECKO_API_URL: `${gecko.url}/api/v3`, ...btcpay.env, BTCPAY_TIMEOUT_MS: '500' },
  });
  vendor = await openStore(t.request);
});
afterAll(async () => {
  await t.close();
  await btcpay.close();
  await gecko.close();
});
afterEach(() => btcpay.setFault(undefined));

const stockOf = async (productId: string) =>
  (await t.database.pool.query('SELECT stock FROM products WHERE id = $1', [productId])).rows[0].stock as number;
const ordersOf = async (buyerId: string) =>
  (await t.database.pool.query('SELECT count(*)::int AS n FROM orders WHERE buyer_id = $1', [buyerId])).rows[0].n as number;
const invoiceCreates = () => btcpay.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/invoices'));

it('a crypto order opens a BTCPay invoice for its total, with our quote alongside and the quote’s expiry; the buyer gets its checkout link', async () => {
  const product = await listProduct(t.request, vendor, { priceCents: 4_321, stock: 5 });
  const buyer = await registerUser(t.request);
  const order = await placeCryptoOrder(t.request, buyer, [{ productId: product.id, quantity: 2 }]);

  const [create] = invoiceCreates().filter((r) => r.json<{ metadata: { orderId: string } }>().metadata.orderId === order.id);
  expect(create!.headers.authorization).toBe(`token ${btcpay.apiKey}`);
  expect(create!.path).toBe(`/api/v1/stores/${btcpay.storeId}/invoices`);
  const sent = create!.json<{
    amount: string;
    currency: string;
    metadata: Record<string, unknown>;
    checkout: { expirationMinutes: number };
  }>();
  expect(sent).toMatchObject({ amount: '86.42', currency: 'USD', checkout: { expirationMinutes: 15 } });
  expect(sent.metadata).toMatchObject({ orderId: order.id, quote: { symbol: 'BTC', rate: price('BTC') } });
  expect(Number((sent.metadata.quote as { amount: string }).amount)).toBe(Number(order.crypto!.amount));
  const invoice = [...btcpay.invoices.values()].find((i) => i.metadata.orderId === order.id)!;
  expect(order.crypto).toMatchObject({ symbol: 'BTC', invoiceId: invoice.id, checkoutUrl: invoice.checkoutLink });
  expect(Date.parse(order.crypto!.expiresAt) - clock.now()).toBe(15 * 60_000);

  const viewed = await t.request.get(`/api/orders/${order.id}`).set('Cookie', buyer.cookie).expect(200);
  expect(viewed.body.order.crypto).toMatchObject({ invoiceId: invoice.id, checkoutUrl: invoice.checkoutLink });
  // A vendor sees neither the quote nor the invoice.
  const asVendor = await t.request.get(`/api/orders/${order.id}`).set('Cookie', vendor.cookie).expect(200);
  expect(asVendor.body.order.crypto).toBeNull();
});

it.each([
  ['down', 'down' as const],
  ['hanging past BTCPAY_TIMEOUT_MS', 'hang' as const],
  ['trickling its answer past BTCPAY_TIMEOUT_MS', 'trickle' as const],
  ['failing (502)', { status: 502, body: { code: 'bad-gateway', message: 'Bad gateway' } }],
  ['refusing our API key (401)', { status: 401, body: { code: 'unauthenticated', message: 'Authentication is required' } }],
])('BTCPay %s: 503 crypto_payments_unavailable with Retry-After, no order and no stock taken', async (_name, fault) => {
  const product = await listProduct(t.request, vendor, { priceCents: 1_500, stock: 2 });
  const buyer = await registerUser(t.request);
  await btcpay.setFault(fault);
  const started = Date.now();
  const res = await t.request
    .post('/api/orders')
    .set('Cookie', buyer.cookie)
    .send({ items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'crypto', cryptoCurrency: 'BTC' })
    .expect(503);
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(res.body.error.code).toBe('crypto_payments_unavailable');
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  expect(await stockOf(product.id)).toBe(2);
  expect(await ordersOf(buyer.id)).toBe(0);
});

it('an order refused after its invoice was opened (not enough stock) leaves no order, and its invoice is marked invalid on BTCPay', async () => {
  const product = await listProduct(t.request, vendor, { priceCents: 2_000, stock: 1 });
  const buyer = await registerUser(t.request);
  const res = await t.request
    .post('/api/orders')
    .set('Cookie', buyer.cookie)
    .send({ items: [{ productId: product.id, quantity: 2 }], paymentMethod: 'crypto', cryptoCurrency: 'ETH' })
    .expect(409);
  expect(res.body.error.code).toBe('insufficient_stock');
  expect(await ordersOf(buyer.id)).toBe(0);
  expect(await stockOf(product.id)).toBe(1);
  const invoice = [...btcpay.invoices.values()].find((i) => i.amount === '40.00' && i.status !== 'New');
  expect(invoice).toMatchObject({ status: 'Invalid' });
});

it('an Idempotency-Key replay answers the first order and opens no second invoice', async () => {
  const product = await listProduct(t.request, vendor, { priceCents: 1_700, stock: 3 });
  const buyer = await registerUser(t.request);
  const place = () =>
    t.request
      .post('/api/orders')
      .set('Cookie', buyer.cookie)
      .set('Idempotency-Key', `btcpay-${product.id}`)
      .send({ items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'crypto', cryptoCurrency: 'BTC' });
  const first = await place().expect(201);
  const before = invoiceCreates().length;
  const again = await place().expect(201);
  expect(again.body.order).toEqual(first.body.order);
  expect(again.body.order.crypto.checkoutUrl).toMatch(/\/i\//);
  expect(invoiceCreates().length).toBe(before);
  expect(await stockOf(product.id)).toBe(2);
});
