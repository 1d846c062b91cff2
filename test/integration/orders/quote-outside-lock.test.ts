import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { ManualClock } from '../../support/clock';
import { type FakeBtcpay, startFakeBtcpay } from '../../support/fake-btcpay';
import { coinGeckoPrices, type FakeProvider, startFakeProvider } from '../../support/fake-crypto-providers';
import { registerUser } from '../../support/users';

/*
 * A crypto order's quote waits on a rates provider. It is fetched before the order's
 * transaction: while the provider has not answered, no stock row is locked.
 */
const clock = new ManualClock(Date.now());
let gecko: FakeProvider;
// Crypto orders are placed with a BTCPay invoice.
let btcpay: FakeBtcpay;
let t: TestApp;
let vendor: Vendor;
beforeAll(async () => {
  gecko = await startFakeProvider(clock, coinGeckoPrices());
  btcpay = await startFakeBtcpay();
  t = await startTestApp({ deps: { clock }, env: { COINGECKO_API_URL: `${gecko.url}/api/v3`, ...btcpay.env } });
  vendor = await openStore(t.request);
});
afterAll(async () => {
  await t.close();
  await gecko.close();
  await btcpay.close();
});

/** Holds the provider's answers until `release()` is called. */
function holdProviderAnswers() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const answer = coinGeckoPrices();
  gecko.answer(async (req, res) => {
    await released;
    return answer(req, res);
  });
  return release;
}

const stockOf = async (productId: string) =>
  (await t.database.pool.query('SELECT stock FROM products WHERE id = $1', [productId])).rows[0].stock as number;

it('while the crypto quote is pending, a card checkout of the same product completes; the crypto order then completes too', async () => {
  const product = await listProduct(t.request, vendor, { priceCents: 5_000, stock: 2 });
  const [cryptoBuyer, cardBuyer] = [await registerUser(t.request), await registerUser(t.request)];
  const release = holdProviderAnswers();
  const asked = gecko.requests.length;
  const cryptoCheckout = t.request
    .post('/api/orders')
    .set('Cookie', cryptoBuyer.cookie)
    .send({ items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'crypto', cryptoCurrency: 'BTC' })
    .then((res) => res);
  await gecko.waitForRequests(asked + 1);

  const started = Date.now();
  const card = await t.request
    .post('/api/orders')
    .set('Cookie', cardBuyer.cookie)
    .send({ items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' })
    .catch((error: unknown) => {
      // Never leave the provider holding its answer: the next test would wait on it.
      release();
      throw error;
    });
  expect(card.status).toBe(201);
  // It answered while the provider still holds its answer: it never queued behind the crypto
  // checkout (a lock wait would last until release()). The bound only catches a slow leak.
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(card.body.order.status).toBe('pending');
  expect(await stockOf(product.id)).toBe(1);
  // The crypto checkout is still waiting on the provider, holding no transaction (in this
  // test's database: other test files share the server).
  const { rows } = await t.database.pool
    .query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' AND datname = current_database()`)
    .finally(release);
  expect(rows[0].n).toBe(0);

  const crypto = await cryptoCheckout;
  expect(crypto.status).toBe(201);
  expect(crypto.body.order.crypto.symbol).toBe('BTC');
  expect(await stockOf(product.id)).toBe(0);
});

it('a price changed while the quote was pending: 409 price_changed, nothing reserved', async () => {
  clock.advance(20 * 60_000); // past stale: this quote waits for the provider again
  const product = await listProduct(t.request, vendor, { priceCents: 5_000, stock: 2 });
  const buyer = await registerUser(t.request);
  const release = holdProviderAnswers();
  const asked = gecko.requests.length;
  const checkout = t.request
    .post('/api/orders')
    .set('Cookie', buyer.cookie)
    .send({ items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'crypto', cryptoCurrency: 'ETH' })
    .then((res) => res);
  await gecko.waitForRequests(asked + 1);
  await t.request.patch(`/api/products/${product.id}`).set('Cookie', vendor.cookie).send({ priceCents: 6_000 }).expect(200);
  release();
  const res = await checkout;
  expect(res.status).toBe(409);
  expect(res.body.error).toMatchObject({ code: 'price_changed', details: { quotedCents: 5_000, totalCents: 6_000 } });
  expect(await stockOf(product.id)).toBe(2);
});
