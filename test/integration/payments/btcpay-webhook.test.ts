import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { ManualClock } from '../../support/clock';
import { btcpayEvent, type FakeBtcpay, type FakeInvoice, startFakeBtcpay } from '../../support/fake-btcpay';
import { coinGeckoPrices, type FakeProvider, startFakeProvider } from '../../support/fake-crypto-providers';
import { type FakeStripe, startFakeStripe } from '../../support/fake-stripe';
import { placeCardOrder, placeCryptoOrder } from '../../support/orders';
import { deliverStripeEvent, signStripeEvent } from '../../support/stripe-events';
import { createAdmin, registerUser } from '../../support/users';
import { TestWsClient } from '../../support/ws-client';
import type { PaymentsModule } from '../../../server/modules/payments';

const STRIPE_WEBHOOK_SECRET = 'whsec_btcpay_refunds';
const clock = new ManualClock(Date.now());
let gecko: FakeProvider;
let btcpay: FakeBtcpay;
let stripe: FakeStripe;
let t: TestApp;
let url: string;
let vendor: Vendor;
beforeAll(async () => {
  gecko = await startFakeProvider(clock, coinGeckoPrices());
  btcpay = await startFakeBtcpay();
  stripe = await startFakeStripe();
  t = await startTestApp({
    deps: { clock },
    env: {
      COINGECKO_API_URL: `${gecko.url}/api/v3`,
      ...btcpay.env,
      STRIPE_SECRET_KEY: 'sk_test_btcpay_refunds',
      STRIPE_WEBHOOK_SECRET,
      STRIPE_API_URL: stripe.url,
    },
  });
  url = await t.listen();
  vendor = await openStore(t.request);
});
afterAll(async () => {
  await t.close();
  await Promise.all([btcpay.close(), stripe.close(), gecko.close()]);
});

/** A crypto order of one unit (of `stock`) and its invoice on the fake BTCPay. */
async function cryptoOrder(priceCents = 2_500, stock = 3) {
  const product = await listProduct(t.request, vendor, { priceCents, stock });
  const buyer = await registerUser(t.request);
  const order = await placeCryptoOrder(t.request, buyer, [{ productId: product.id, quantity: 1 }]);
  const invoice = btcpay.invoices.get(order.crypto!.invoiceId!)!;
  return { product, buyer, order, invoice };
}

const send = async (event: Record<string, unknown>) => {
  const res = await btcpay.sendWebhook(url, event);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: { code: string } } };
};
const settle = (invoice: FakeInvoice, delivery?: { deliveryId?: string; originalDeliveryId?: string }) => {
  invoice.status = 'Settled';
  return send(btcpayEvent(invoice, 'InvoiceSettled', { manuallyMarked: false, overPaid: false }, delivery));
};
const statusOf = async (id: string) => (await t.database.pool.query('SELECT status FROM orders WHERE id = $1', [id])).rows[0].status;
const stockOf = async (id: string) => (await t.database.pool.query('SELECT stock FROM products WHERE id = $1', [id])).rows[0].stock;
const eventsOf = async (invoiceId: string) =>
  (await t.database.pool.query('SELECT id, type, outcome FROM btcpay_events WHERE invoice_id = $1 ORDER BY created_at', [invoiceId])).rows;
const paymentsModule = () => t.app.modules.find((m) => m.name === 'payments') as PaymentsModule;

it('InvoiceSettled delivered six times at once (six delivery ids, one original): paid once, stock kept, one mail each, one vendor push', async () => {
  const socket = await TestWsClient.connect(url, { cookie: vendor.cookie });
  try {
    const { product, order, invoice } = await cryptoOrder(2_500, 3);
    const first = 'first-delivery-of-settled';
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => settle(invoice, { deliveryId: i === 0 ? first : `redelivery-${i}`, originalDeliveryId: first })),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(results.filter((r) => r.body.duplicate === false)).toHaveLength(1);
    expect(await statusOf(order.id)).toBe('paid');
    expect(await stockOf(product.id)).toBe(2);
    expect(await eventsOf(invoice.id)).toEqual([{ id: first, type: 'InvoiceSettled', outcome: 'paid' }]);
    const mails = await t.database.pool.query("SELECT kind FROM email_outbox WHERE dedupe_key LIKE '%' || $1 || '%' ORDER BY kind", [
      order.id,
    ]);
    expect(mails.rows).toHaveLength(2); // the buyer's confirmation and the vendor's new order
    const pushed = await socket.next((f) => f.type === 'notification' && JSON.stringify(f).includes(order.id));
    expect((pushed.notification as { type: string }).type).toBe('order.paid');
    const stored = await t.database.pool.query("SELECT count(*)::int AS n FROM notifications WHERE payload->>'orderId' = $1", [order.id]);
    expect(stored.rows[0].n).toBe(1);
    const viewed = await t.request
      .get(`/api/orders/${order.id}`)
      .set('Cookie', (await registerUser(t.request)).cookie)
      .expect(404);
    expect(viewed.body.error.code).toBe('not_found');
  } finally {
    socket.socket.close();
  }
});

it.each([
  ['InvoiceExpired', { partiallyPaid: false, paymentMethodPaid: false }],
  ['InvoiceInvalid', { manuallyMarked: true }],
])('%s ends a pending order as expired and puts its stock back', async (type, fields) => {
  const { product, order, invoice } = await cryptoOrder(1_100, 2);
  expect(await stockOf(product.id)).toBe(1);
  expect((await send(btcpayEvent(invoice, type, fields))).status).toBe(200);
  expect(await statusOf(order.id)).toBe('expired');
  expect(await stockOf(product.id)).toBe(2);
  expect(await eventsOf(invoice.id)).toEqual([expect.objectContaining({ type, outcome: 'expired_stock_released' })]);
});

it('settled after the invoice expired (stock released): review, nothing sold twice', async () => {
  const { product, order, invoice } = await cryptoOrder(1_200, 1);
  await send(btcpayEvent(invoice, 'InvoiceExpired', { partiallyPaid: false }));
  expect(await stockOf(product.id)).toBe(1);
  expect((await settle(invoice)).status).toBe(200);
  expect(await statusOf(order.id)).toBe('review');
  expect(await stockOf(product.id)).toBe(1);
  expect((await eventsOf(invoice.id)).map((e) => e.outcome)).toEqual(['expired_stock_released', 'paid_after_expired_review']);
});

it.each([
  ['an invoice that expired partly paid', 'InvoiceExpired', { partiallyPaid: true }, 'partial_payment_review'],
  [
    'a payment received after expiry',
    'InvoiceReceivedPayment',
    { afterExpiration: true, paymentMethod: 'BTC-CHAIN', payment: {} },
    'late_payment_review',
  ],
])('%s goes to review', async (_name, type, fields, outcome) => {
  const { order, invoice } = await cryptoOrder(1_300, 2);
  expect((await send(btcpayEvent(invoice, type, fields))).status).toBe(200);
  expect(await statusOf(order.id)).toBe('review');
  expect((await eventsOf(invoice.id)).map((e) => e.outcome)).toEqual([outcome]);
});

it('an invoice amount that is not the order total is not paid but left for review', async () => {
  const { order, invoice } = await cryptoOrder(1_400, 2);
  invoice.amount = '13.00';
  await settle(invoice);
  expect(await statusOf(order.id)).toBe('review');
  expect((await eventsOf(invoice.id)).map((e) => e.outcome)).toEqual(['amount_mismatch_review']);
});

it.each(['missing', 'forged', 'short'] as const)(
  'a %s signature is a 400 invalid_signature; nothing is recorded or changed',
  async (how) => {
    const { order, invoice } = await cryptoOrder(1_500, 2);
    invoice.status = 'Settled';
    const res = await btcpay.sendForgedWebhook(url, btcpayEvent(invoice, 'InvoiceSettled', { overPaid: false }), how);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_signature');
    expect(await statusOf(order.id)).toBe('pending');
    expect(await eventsOf(invoice.id)).toEqual([]);
  },
);

it('unknown event types, unknown invoices and an invoice naming another order are answered 200, recorded and change nothing', async () => {
  const { order, invoice } = await cryptoOrder(1_600, 2);
  expect((await send(btcpayEvent(invoice, 'InvoiceCreated'))).status).toBe(200);
  expect((await send(btcpayEvent(invoice, 'InvoiceProcessing', { overPaid: false }))).status).toBe(200);
  const stranger = { id: 'NotOurInvoice1', storeId: btcpay.storeId, metadata: {} };
  expect((await send(btcpayEvent(stranger, 'InvoiceExpired', { partiallyPaid: false }))).status).toBe(200);
  expect((await send(btcpayEvent(stranger, 'InvoiceSettled', { overPaid: false }))).status).toBe(200);
  const other = await cryptoOrder(1_600, 2);
  const misnamed = { ...invoice, metadata: { ...invoice.metadata, orderId: other.order.id } };
  expect((await send(btcpayEvent(misnamed, 'InvoiceInvalid', { manuallyMarked: true }))).status).toBe(200);
  expect(await statusOf(order.id)).toBe('pending');
  expect(await statusOf(other.order.id)).toBe('pending');
  expect((await eventsOf(invoice.id)).map((e) => e.outcome)).toEqual(['ignored', 'ignored', 'invoice_order_mismatch']);
  expect((await eventsOf(stranger.id)).map((e) => e.outcome)).toEqual(['unknown_invoice', 'ignored']);
});

describe('refundOrderPayment', () => {
  it('a paid crypto order: a BTCPay refund pull payment for its total in its fiat currency, whose link the buyer claims', async () => {
    const { order, invoice } = await cryptoOrder(2_750, 2);
    await settle(invoice);
    const row = (await t.database.pool.query('SELECT * FROM orders WHERE id = $1', [order.id])).rows[0];
    const refund = await paymentsModule().refundOrderPayment({
      id: order.id,
      paymentMethod: 'crypto',
      totalCents: row.total_cents,
      refundedCents: 0,
      currency: row.currency,
      stripePaymentIntentId: null,
      cryptoInvoiceId: row.crypto_invoice_id,
    });
    const pullPayment = btcpay.pullPayments.get(refund.reference)!;
    expect(refund).toEqual({ provider: 'btcpay', reference: pullPayment.id, amountCents: 2_750, claimUrl: pullPayment.viewLink });
    const [sent] = btcpay.requests.filter((r) => r.path.endsWith(`/invoices/${invoice.id}/refund`));
    expect(sent!.json()).toMatchObject({ refundVariant: 'Fiat', paymentMethod: 'BTC-CHAIN' });
    // What is left after a partial refund is refunded as a custom fiat amount.
    const rest = await paymentsModule().refundOrderPayment({
      ...{ id: order.id, paymentMethod: 'crypto', totalCents: 2_750, currency: 'usd', stripePaymentIntentId: null },
      refundedCents: 750,
      cryptoInvoiceId: invoice.id,
    });
    expect(btcpay.pullPayments.get(rest.reference)).toMatchObject({ amount: '20.00', currency: 'USD' });
  });

  it('a paid card order: a Stripe refund of what is left, keyed by the order', async () => {
    const product = await listProduct(t.request, vendor, { priceCents: 3_300, stock: 2 });
    const buyer = await registerUser(t.request);
    const order = await placeCardOrder(t.request, buyer, [{ productId: product.id, quantity: 1 }]);
    const intentId = (await t.request.post(`/api/orders/${order.id}/payment-intent`).set('Cookie', buyer.cookie).expect(200)).body
      .paymentIntentId as string;
    Object.assign(stripe.intents.get(intentId)!, { status: 'succeeded', amount_received: 3_300 });
    const succeeded = signStripeEvent(STRIPE_WEBHOOK_SECRET, 'payment_intent.succeeded', {
      id: intentId,
      amount: 3_300,
      amount_received: 3_300,
      currency: 'usd',
      metadata: { orderId: order.id },
    });
    await deliverStripeEvent(t.request, succeeded).expect(200);
    const refundable = {
      id: order.id,
      paymentMethod: 'card' as const,
      totalCents: 3_300,
      refundedCents: 0,
      currency: 'usd',
      stripePaymentIntentId: intentId,
      cryptoInvoiceId: null,
    };
    const refund = await paymentsModule().refundOrderPayment(refundable);
    expect(refund).toEqual({ provider: 'stripe', reference: expect.stringMatching(/^re_/), amountCents: 3_300, claimUrl: null });
    expect(stripe.refunds.get(refund.reference)).toMatchObject({ payment_intent: intentId, amount: 3_300 });
    const [sent] = stripe.requests.filter((r) => r.path === '/v1/refunds');
    expect(sent!.headers['idempotency-key']).toBe(`order-refund:${order.id}:0`);
    // A retry is the same refund; nothing is left once it is all refunded.
    expect((await paymentsModule().refundOrderPayment(refundable)).reference).toBe(refund.reference);
    await expect(paymentsModule().refundOrderPayment({ ...refundable, refundedCents: 3_300 })).rejects.toMatchObject({
      status: 409,
      code: 'not_refundable',
    });
  });

  it('409 not_refundable with no payment to refund; 503 when BTCPay cannot answer', async () => {
    const { order, invoice } = await cryptoOrder(1_900, 2);
    const unpaid = {
      id: order.id,
      paymentMethod: 'crypto' as const,
      totalCents: 1_900,
      refundedCents: 0,
      currency: 'usd',
      stripePaymentIntentId: null,
      cryptoInvoiceId: invoice.id,
    };
    await expect(paymentsModule().refundOrderPayment(unpaid)).rejects.toMatchObject({ status: 409, code: 'not_refundable' });
    await expect(paymentsModule().refundOrderPayment({ ...unpaid, cryptoInvoiceId: null })).rejects.toMatchObject({ status: 409 });
    await expect(
      paymentsModule().refundOrderPayment({ ...unpaid, paymentMethod: 'card', stripePaymentIntentId: null, cryptoInvoiceId: null }),
    ).rejects.toMatchObject({ status: 409, code: 'not_refundable' });
    await btcpay.setFault({ status: 503, body: { code: 'unavailable', message: 'down' } });
    try {
      await expect(paymentsModule().refundOrderPayment(unpaid)).rejects.toMatchObject({ status: 503, code: 'crypto_payments_unavailable' });
    } finally {
      await btcpay.setFault(undefined);
    }
  });
});

// Red team (issue 19): an order in review holds no stock (accepting it takes the stock again), so
// a pending order that goes there must give its reservation back, or accepting takes it twice and
// refunding never returns it.
it.each([
  ['an invoice that expired partly paid', 'InvoiceExpired', { partiallyPaid: true }],
  ['a payment received after expiry', 'InvoiceReceivedPayment', { afterExpiration: true, paymentMethod: 'BTC-CHAIN', payment: {} }],
])('%s while the order is still pending: the order goes to review and its reserved stock goes back', async (_name, type, fields) => {
  const { product, order, invoice } = await cryptoOrder(1_350, 2);
  expect(await stockOf(product.id)).toBe(1);
  expect((await send(btcpayEvent(invoice, type, fields))).status).toBe(200);
  expect(await statusOf(order.id)).toBe('review');
  expect(await stockOf(product.id)).toBe(2);
});

// Red team (issue 19): a BTCPay refund is a pull payment with no idempotency key, so two admins
// (or one double click) refunding the same review order at once must not open two of them.
it('two concurrent admin refunds of a crypto order in review open one BTCPay pull payment; one is 200, the other 409', async () => {
  const admin = await createAdmin(t);
  const { order, invoice } = await cryptoOrder(1_450, 2);
  invoice.amount = '14.00';
  await settle(invoice);
  expect(await statusOf(order.id)).toBe('review');
  const refund = () => t.request.post(`/api/admin/orders/${order.id}/resolve`).set('Cookie', admin.cookie).send({ action: 'refund' });
  const answers = await Promise.all([refund(), refund()]);
  expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
  const opened = [...btcpay.pullPayments.values()].filter((p) => p.name === `Refund of order ${order.id}`);
  expect(opened).toHaveLength(1);
  expect(await statusOf(order.id)).toBe('refunded');
});
