import { setUserSuspended } from '../../../server/modules/auth';
import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { ManualClock } from '../../support/clock';
import { recordedResponses, responsesSettled } from '../../support/contract-recorder';
import { coinGeckoPrices, type FakeProvider, startFakeProvider } from '../../support/fake-crypto-providers';
import { type FakeStripe, startFakeStripe } from '../../support/fake-stripe';
import { btcpayEvent, type FakeBtcpay, startFakeBtcpay } from '../../support/fake-btcpay';
import { binary, pngBytes, upload } from '../../support/objects';
import { createAdmin, mailedToken, registerUser, type SignedInUser, verifyEmail } from '../../support/users';
import { deliverStripeEvent, signStripeEvent } from '../../support/stripe-events';
import { placeCardOrder } from '../../support/orders';

/*
 * Drives every declared route at least once, its success and its main error statuses. Each
 * response is checked against the OpenAPI document after the file (test/support/contract-check.ts);
 * the last test proves every operation of the document was exercised here, whatever other files ran.
 */
const WEBHOOK_SECRET = 'whsec_contract';
const MISSING = '00000000-0000-4000-8000-000000000000';

let t: TestApp;
let stripe: FakeStripe;
let gecko: FakeProvider;
let btcpay: FakeBtcpay;
let vendor: Vendor;
let buyer: SignedInUser;
const clock = new ManualClock(Date.now());
beforeAll(async () => {
  stripe = await startFakeStripe();
  gecko = await startFakeProvider(clock, coinGeckoPrices());
  btcpay = await startFakeBtcpay();
  t = await startTestApp({
    deps: { clock },
    env: {
      STRIPE_SECRET_KEY: 'sk_test_contract',
      STRIPE_PUBLISHABLE_KEY: 'pk_test_contract',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_URL: stripe.url,
      COINGECKO_API_URL: `${gecko.url}/api/v3`,
      ...btcpay.env,
    },
  });
  vendor = await openStore(t.request);
  buyer = await registerUser(t.request);
}, 30_000);
afterAll(async () => {
  await t.close();
  await stripe.close();
  await gecko.close();
  await btcpay.close();
});

const signedEvent = (type: string, object: Record<string, unknown>) => signStripeEvent(WEBHOOK_SECRET, type, object);

it('health, metrics and the document answer', async () => {
  await t.request.get('/api/health').expect(200);
  await t.request.get('/api/health/live').expect(200);
  await t.request.get('/api/health/ready').expect(200);
  await t.request.get('/api/health/ws-stats').expect(200);
  await t.request.get('/metrics').expect(200);
  await t.request.get('/api/openapi.json').expect(200);
  await t.request.get('/api/docs').expect(200);
});

it('auth: sign up, sign in, who am I, rename, sign out, and their refusals', async () => {
  const email = `contract-${Date.now()}@example.com`;
  const created = await t.request.post('/api/auth/register').send({ email, password: 'long enough to last', name: 'C' }).expect(201);
  await t.request.post('/api/auth/register').send({ email, password: 'long enough to last', name: 'C' }).expect(409);
  await t.request.post('/api/auth/register').send({ email: 'nope', password: 'x' }).expect(400);
  await t.request.post('/api/auth/login').send({ email, password: 'wrong password' }).expect(401);
  const login = await t.request.post('/api/auth/login').send({ email, password: 'long enough to last' }).expect(200);
  const cookie = String(login.headers['set-cookie']).split(';')[0]!;
  expect((await t.request.get('/api/auth/me').set('Cookie', cookie).expect(200)).body.user.id).toBe(created.body.user.id);
  await t.request.get('/api/auth/me').expect(401);
  const gone = await registerUser(t.request);
  await t.database.pool.query('DELETE FROM users WHERE id = $1', [gone.id]);
  await t.request.get('/api/auth/me').set('Cookie', gone.cookie).expect(404);
  expect((await t.request.patch('/api/auth/me').set('Cookie', cookie).send({ name: 'C two' }).expect(200)).body.user.name).toBe('C two');
  await t.request.patch('/api/auth/me').set('Cookie', gone.cookie).send({ name: 'Gone' }).expect(404);
  await t.request.post('/api/auth/logout').set('Cookie', cookie).expect(204);
  await t.request.post('/api/auth/logout').set('Origin', 'https://evil.example').expect(403);
});

it('accounts: password change and reset, e-mail verification, suspension, and their refusals', async () => {
  const user = await registerUser(t.request);
  await t.request.post('/api/auth/verify-email').send({ token: 'unknown' }).expect(400);
  await verifyEmail(t.request, user);
  await t.request.post('/api/auth/verify-email/resend').set('Cookie', user.cookie).expect(409);
  const unverified = await registerUser(t.request);
  await t.request.post('/api/auth/verify-email/resend').set('Cookie', unverified.cookie).expect(202);
  await t.request.post('/api/vendors').set('Cookie', unverified.cookie).send({ storeName: 'Too soon' }).expect(403);

  const newPassword = 'saffron glacier behind the orchard';
  await t.request
    .post('/api/auth/password')
    .set('Cookie', user.cookie)
    .send({ currentPassword: 'wrong password', newPassword })
    .expect(403);
  await t.request.post('/api/auth/password').set('Cookie', user.cookie).send({ currentPassword: user.password, newPassword }).expect(200);

  await t.request.post('/api/auth/password-reset').send({ email: user.email }).expect(202);
  await t.request.post('/api/auth/password-reset/confirm').send({ token: 'unknown', password: newPassword }).expect(400);
  const token = await mailedToken(t, user.email, 'password_reset');
  await t.request.post('/api/auth/password-reset/confirm').send({ token, password: 'another saffron glacier' }).expect(204);

  await t.database.transaction((unit) => setUserSuspended(unit, user.id, true, new Date()));
  await t.request.post('/api/auth/login').send({ email: user.email, password: 'another saffron glacier' }).expect(403);
});

it('catalogue: stores and products, with 403, 404, 409 and 400', async () => {
  await t.request.post('/api/vendors').set('Cookie', vendor.cookie).send({ storeName: 'Again' }).expect(409);
  await t.request.get(`/api/vendors/${vendor.vendorId}`).expect(200);
  await t.request.get(`/api/vendors/${MISSING}`).expect(404);
  await t.request.get('/api/vendors/not-a-uuid').expect(400);
  await t.request.get('/api/vendors?q=test&limit=5').expect(200);
  await t.request.get('/api/vendors?cursor=forged').expect(400);
  await t.request.get('/api/vendors/me').set('Cookie', vendor.cookie).expect(200);
  await t.request.get('/api/vendors/me').set('Cookie', buyer.cookie).expect(403);
  await t.request.patch('/api/vendors/me').set('Cookie', vendor.cookie).send({ description: 'Still a store' }).expect(200);
  await t.request.patch('/api/vendors/me').set('Cookie', vendor.cookie).send({ logoKey: 'public/none.png' }).expect(400);
  await t.request.patch('/api/vendors/me').set('Cookie', buyer.cookie).send({ description: 'Not mine' }).expect(403);
  const product = await listProduct(t.request, vendor);
  await t.request.post('/api/products').set('Cookie', buyer.cookie).send({ title: 'X', priceCents: 1 }).expect(403);
  await t.request
    .post('/api/products')
    .set('Cookie', vendor.cookie)
    .send({ title: 'X', priceCents: 1, imageKeys: ['public/none.png'] })
    .expect(400);
  await t.request.get('/api/products?limit=1').expect(200);
  await t.request.get('/api/products?cursor=forged').expect(400);
  await t.request.get('/api/categories').expect(200);
  await t.request.get(`/api/products/${product.id}`).expect(200);
  await t.request.get(`/api/products/${MISSING}`).expect(404);
  await t.request.patch(`/api/products/${product.id}`).set('Cookie', vendor.cookie).send({ stock: 7 }).expect(200);
  await t.request.patch(`/api/products/${product.id}`).set('Cookie', buyer.cookie).send({ stock: 1 }).expect(403);
  await t.request.patch(`/api/products/${MISSING}`).set('Cookie', vendor.cookie).send({ stock: 1 }).expect(404);
  await t.request.delete(`/api/products/${product.id}`).set('Cookie', buyer.cookie).expect(403);
  await t.request.delete(`/api/products/${product.id}`).set('Cookie', vendor.cookie).expect(204);
  await t.request.delete(`/api/products/${product.id}`).set('Cookie', vendor.cookie).expect(404);
});

it('objects: uploads and downloads with their conditional and range answers', async () => {
  const publicObject = (await upload(t, vendor, pngBytes(2_000), { visibility: 'public' }).expect(201)).body as { url: string };
  const privateObject = (await upload(t, buyer, pngBytes(500)).expect(201)).body as { url: string };
  await upload(t, buyer, pngBytes(500), { visibility: 'public' }).expect(403);
  await upload(t, buyer, Buffer.from('just text, not an image'), { filename: 'a.txt', contentType: 'text/plain' }).expect(415);
  await t.request.post('/api/uploads').set('Cookie', buyer.cookie).send({ file: 'x' }).expect(415);
  await upload(t, undefined, pngBytes(100)).expect(401);

  const full = await t.request.get(publicObject.url).buffer(true).parse(binary).expect(200);
  const etag = full.headers.etag as string;
  await t.request.get(publicObject.url).set('Range', 'bytes=0-9').buffer(true).parse(binary).expect(206);
  await t.request.get(publicObject.url).set('Range', 'bytes=99999-').expect(416);
  await t.request.get(publicObject.url).set('If-None-Match', etag).expect(304);
  await t.request.get(publicObject.url).set('If-Match', '"other"').expect(412);
  await t.request.head(publicObject.url).expect(200);
  await t.request.get('/objects/public/..%2fsecret.png').expect(400);
  await t.request.get('/objects/public/missing.png').expect(404);
  await t.request.get(privateObject.url).set('Cookie', buyer.cookie).buffer(true).parse(binary).expect(200);
  await t.request.get(privateObject.url).set('Cookie', vendor.cookie).expect(404);
});

it('crypto: rates and quotes', async () => {
  await t.request.get('/api/crypto/rates?symbols=BTC,ETH&vs=eur').expect(200);
  await t.request.get('/api/crypto/rates?symbols=NOPE').expect(400);
  await t.request.get('/api/crypto/quote?amountCents=1000&currency=usd&symbol=BTC').expect(200);
  await t.request.get('/api/crypto/quote?amountCents=0&currency=usd&symbol=BTC').expect(400);
});

it('orders and payments: place, list, view, pay, cancel, webhook, and their refusals', async () => {
  const product = await listProduct(t.request, vendor, { priceCents: 2_500, stock: 3 });
  const place = (quantity: number) =>
    t.request
      .post('/api/orders')
      .set('Cookie', buyer.cookie)
      .send({ items: [{ productId: product.id, quantity }], paymentMethod: 'card' });
  const order = (await place(1).expect(201)).body.order as { id: string };
  await place(99).expect(422);
  await place(5).expect(409);
  await t.request
    .post('/api/orders')
    .set('Cookie', buyer.cookie)
    .send({ items: [{ productId: MISSING, quantity: 1 }], paymentMethod: 'card' })
    .expect(404);
  await t.request.post('/api/orders').set('Cookie', buyer.cookie).send({ items: [] }).expect(400);
  await t.request.get('/api/orders?limit=5').set('Cookie', buyer.cookie).expect(200);
  await t.request.get(`/api/orders/${order.id}`).set('Cookie', buyer.cookie).expect(200);
  await t.request.get(`/api/orders/${MISSING}`).set('Cookie', buyer.cookie).expect(404);
  const intent = (await t.request.post(`/api/orders/${order.id}/payment-intent`).set('Cookie', buyer.cookie).expect(200)).body as {
    paymentIntentId: string;
  };
  await t.request.post(`/api/orders/${MISSING}/payment-intent`).set('Cookie', buyer.cookie).expect(404);

  const failed = signedEvent('payment_intent.payment_failed', {
    id: intent.paymentIntentId,
    object: 'payment_intent',
    metadata: { orderId: order.id },
  });
  await deliverStripeEvent(t.request, failed).expect(200);
  await deliverStripeEvent(t.request, { ...failed, signature: 'forged' }).expect(400);

  // The failure ended the order: it can be neither cancelled nor paid any more.
  await t.request.post(`/api/orders/${order.id}/cancel`).set('Cookie', buyer.cookie).expect(409);
  await t.request.post(`/api/orders/${order.id}/payment-intent`).set('Cookie', buyer.cookie).expect(409);
  const another = (await place(1).expect(201)).body.order as { id: string };
  await t.request.post(`/api/orders/${another.id}/cancel`).set('Cookie', buyer.cookie).expect(200);

  // A crypto order, paid through the BTCPay webhook; a forged delivery is refused.
  const crypto = (
    await t.request
      .post('/api/orders')
      .set('Cookie', buyer.cookie)
      .send({ items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'crypto', cryptoCurrency: 'BTC' })
      .expect(201)
  ).body.order as { crypto: { invoiceId: string } };
  const invoice = btcpay.invoices.get(crypto.crypto.invoiceId)!;
  invoice.status = 'Settled';
  const url = await t.listen();
  expect((await btcpay.sendWebhook(url, btcpayEvent(invoice, 'InvoiceSettled', { overPaid: false }))).status).toBe(200);
  expect((await btcpay.sendForgedWebhook(url, btcpayEvent(invoice, 'InvoiceSettled'), 'forged')).status).toBe(400);
});

it("vendor orders: a store's orders and moving its part, with 409 and 404", async () => {
  const product = await listProduct(t.request, vendor, { priceCents: 1_200, stock: 2 });
  const order = await placeCardOrder(t.request, buyer, [{ productId: product.id, quantity: 1 }]);
  await t.request.patch(`/api/vendors/me/orders/${order.id}`).set('Cookie', vendor.cookie).send({ status: 'processing' }).expect(409);
  const paid = signedEvent('payment_intent.succeeded', {
    id: `pi_contract_${order.id.slice(0, 8)}`,
    object: 'payment_intent',
    amount: order.totalCents,
    amount_received: order.totalCents,
    currency: 'usd',
    metadata: { orderId: order.id },
  });
  await deliverStripeEvent(t.request, paid).expect(200);
  await t.request.get('/api/vendors/me/orders?status=paid&limit=5').set('Cookie', vendor.cookie).expect(200);
  await t.request.get('/api/vendors/me/orders').set('Cookie', buyer.cookie).expect(403);
  await t.request.patch(`/api/vendors/me/orders/${order.id}`).set('Cookie', vendor.cookie).send({ status: 'processing' }).expect(200);
  await t.request.patch(`/api/vendors/me/orders/${MISSING}`).set('Cookie', vendor.cookie).send({ status: 'processing' }).expect(404);
});

it('admin: orders by status, resolving a review order, suspensions and the audit log, with 403, 404, 409 and 400', async () => {
  const admin = await createAdmin(t);
  await t.request.get('/api/admin/orders?status=review&limit=5').set('Cookie', admin.cookie).expect(200);
  await t.request.get('/api/admin/orders').set('Cookie', buyer.cookie).expect(403);
  // A payment of the wrong amount puts the order in review (its stock goes back); accepting takes it again.
  const product = await listProduct(t.request, vendor, { priceCents: 900, stock: 2 });
  const order = await placeCardOrder(t.request, buyer, [{ productId: product.id, quantity: 1 }]);
  const short = signedEvent('payment_intent.succeeded', {
    id: `pi_contract_review_${order.id.slice(0, 8)}`,
    object: 'payment_intent',
    amount: 1,
    amount_received: 1,
    currency: 'usd',
    metadata: { orderId: order.id },
  });
  await deliverStripeEvent(t.request, short).expect(200);
  await t.request.post(`/api/admin/orders/${order.id}/resolve`).set('Cookie', admin.cookie).send({ action: 'accept' }).expect(200);
  await t.request.post(`/api/admin/orders/${order.id}/resolve`).set('Cookie', admin.cookie).send({ action: 'accept' }).expect(409);
  await t.request.post(`/api/admin/orders/${MISSING}/resolve`).set('Cookie', admin.cookie).send({ action: 'refund' }).expect(404);
  const user = await registerUser(t.request);
  await t.request.post(`/api/admin/users/${user.id}/suspend`).set('Cookie', admin.cookie).expect(200);
  await t.request.post(`/api/admin/users/${user.id}/reinstate`).set('Cookie', admin.cookie).expect(200);
  await t.request.post(`/api/admin/users/${admin.id}/suspend`).set('Cookie', admin.cookie).expect(409);
  await t.request.post(`/api/admin/users/${MISSING}/reinstate`).set('Cookie', admin.cookie).expect(404);
  const store = await openStore(t.request, 'Contract Suspended');
  await t.request.post(`/api/admin/vendors/${store.vendorId}/suspend`).set('Cookie', admin.cookie).expect(200);
  await t.request.post(`/api/admin/vendors/${store.vendorId}/reinstate`).set('Cookie', admin.cookie).expect(200);
  await t.request.post(`/api/admin/vendors/${MISSING}/suspend`).set('Cookie', admin.cookie).expect(404);
  await t.request.post(`/api/admin/vendors/${MISSING}/reinstate`).set('Cookie', vendor.cookie).expect(403);
  await t.request.get('/api/admin/audit-log?limit=3').set('Cookie', admin.cookie).expect(200);
  await t.request.get('/api/admin/audit-log?cursor=forged').set('Cookie', admin.cookie).expect(400);
});

it("an upstream's HTTP status is not passed on: Stripe refusing our API key is a documented 503 with Retry-After, not the buyer's 401", async () => {
  const misconfigured = await startTestApp({
    testDatabase: t.testDatabase,
    env: { STRIPE_SECRET_KEY: 'rk_test_not_a_secret_key', STRIPE_API_URL: stripe.url },
  });
  try {
    const product = await listProduct(misconfigured.request, vendor, { stock: 2 });
    const order = await placeCardOrder(misconfigured.request, buyer, [{ productId: product.id, quantity: 1 }]);
    const res = await misconfigured.request.post(`/api/orders/${order.id}/payment-intent`).set('Cookie', buyer.cookie).expect(503);
    expect(res.body.error.code).toBe('payment_provider_unavailable');
    expect(res.headers['retry-after']).toBeDefined();
    expect(JSON.stringify(res.body)).not.toContain('API Key');
  } finally {
    await misconfigured.close();
  }
});

it('realtime: history, conversations, notifications', async () => {
  await t.request.get(`/api/messages?with=${vendor.id}`).set('Cookie', buyer.cookie).expect(200);
  await t.request.get(`/api/messages?with=${vendor.id}&cursor=${MISSING}`).set('Cookie', buyer.cookie).expect(400);
  await t.request.post('/api/messages/read').set('Cookie', buyer.cookie).send({ with: vendor.id }).expect(200);
  await t.request.get('/api/conversations').set('Cookie', buyer.cookie).expect(200);
  // The failed payment above left the buyer a notification.
  const { notifications } = (await t.request.get('/api/notifications?limit=10').set('Cookie', buyer.cookie).expect(200)).body as {
    notifications: Array<{ id: string }>;
  };
  expect(notifications.length).toBeGreaterThan(0);
  await t.request.post(`/api/notifications/${notifications[0]!.id}/read`).set('Cookie', buyer.cookie).expect(200);
  await t.request.post(`/api/notifications/${notifications[0]!.id}/read`).set('Cookie', vendor.cookie).expect(404);
  await t.request.get(`/api/notifications?cursor=${MISSING}`).set('Cookie', buyer.cookie).expect(400);
  await t.request.get('/api/notifications').expect(401);
});

it('every declared route answered here at least once with success, and with one of its own errors when it declares any', async () => {
  await responsesSettled();
  const seen = recordedResponses();
  const missing: string[] = [];
  for (const route of t.app.routes) {
    const answers = seen.filter(
      (r) => r.pattern === route.path && (r.method === route.method.toUpperCase() || (r.method === 'HEAD' && route.method === 'get')),
    );
    const declared = Object.keys(route.responses).map(Number);
    const ownErrors = declared.filter((s) => s >= 400 && s < 500);
    if (!answers.some((r) => r.status < 400)) missing.push(`${route.method.toUpperCase()} ${route.path}: no success`);
    if (ownErrors.length > 0 && !answers.some((r) => ownErrors.includes(r.status)))
      missing.push(`${route.method.toUpperCase()} ${route.path}: none of ${ownErrors.join(', ')}`);
  }
  expect(missing).toEqual([]);
  expect(t.app.routes.length).toBeGreaterThan(30);
});
