import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { ManualClock } from '../../support/clock';
import { type FakeStripe, startFakeStripe } from '../../support/fake-stripe';
import { placeCardOrder, placeLatePaidCardOrder } from '../../support/orders';
import { createAdmin, registerUser, type SignedInUser } from '../../support/users';

const WEBHOOK_SECRET = 'whsec_admin_test_secret';

let stripe: FakeStripe;
let t: TestApp;
let clock: ManualClock;
let admin: SignedInUser;
let vendor: Vendor;
let buyer: SignedInUser;
beforeAll(async () => {
  stripe = await startFakeStripe();
  clock = new ManualClock(Date.now());
  t = await startTestApp({
    env: {
      STRIPE_SECRET_KEY: 'sk_test_admin_key_1234567890',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_URL: stripe.url,
    },
    deps: { clock },
  });
  admin = await createAdmin(t);
  vendor = await openStore(t.request, 'Admin Test Store');
  buyer = await registerUser(t.request);
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

const stockOf = async (productId: string) =>
  (await t.database.pool.query('SELECT stock FROM products WHERE id = $1', [productId])).rows[0].stock as number;
const auditLines = async (targetId: string) =>
  (await t.database.pool.query('SELECT action, actor_id FROM audit_log WHERE target_id = $1 ORDER BY created_at', [targetId])).rows;

const reviewOrder = (stock = 3, quantity = 2) =>
  placeLatePaidCardOrder({ t, stripe, clock, webhookSecret: WEBHOOK_SECRET, vendor, buyer }, { stock, priceCents: 1_500, quantity });

describe('who may use the admin routes', () => {
  // Three entries each: jest passes a missing third one as a `done` callback.
  const routes: Array<[string, string, object | null]> = [
    ['get', '/api/admin/orders?status=review', null],
    ['post', '/api/admin/orders/00000000-0000-4000-8000-000000000000/resolve', { action: 'accept' }],
    ['post', '/api/admin/users/00000000-0000-4000-8000-000000000000/suspend', null],
    ['post', '/api/admin/users/00000000-0000-4000-8000-000000000000/reinstate', null],
    ['post', '/api/admin/vendors/00000000-0000-4000-8000-000000000000/suspend', null],
    ['post', '/api/admin/vendors/00000000-0000-4000-8000-000000000000/reinstate', null],
    ['get', '/api/admin/audit-log', null],
  ];

  it.each(routes)('%s %s: anonymous 401, a buyer and a vendor 403, an admin gets past the check', async (method, path, body) => {
    const call = (cookie?: string) => {
      const req = method === 'get' ? t.request.get(path) : t.request.post(path).send(body ?? {});
      return cookie ? req.set('Cookie', cookie) : req;
    };
    expect((await call()).status).toBe(401);
    expect((await call(buyer.cookie)).status).toBe(403);
    expect((await call(vendor.cookie)).status).toBe(403);
    expect([200, 404]).toContain((await call(admin.cookie)).status);
  });

  it('the API cannot make an admin: registration ignores or refuses a role, and PATCH /api/auth/me refuses it', async () => {
    const res = await t.request
      .post('/api/auth/register')
      .send({ email: `would-be-admin-${Date.now()}@example.com`, password: 'a long enough passphrase 42', name: 'Mallory', role: 'admin' });
    if (res.status === 201) expect(res.body.user.role).toBe('buyer');
    else expect(res.status).toBe(400);
    await t.request.patch('/api/auth/me').set('Cookie', buyer.cookie).send({ role: 'admin' }).expect(400);
    const me = await t.request.get('/api/auth/me').set('Cookie', buyer.cookie).expect(200);
    expect(me.body.user.role).toBe('buyer');
  });
});

describe('orders in review', () => {
  it('are listed by status for admins', async () => {
    const { order } = await reviewOrder();
    const res = await t.request.get('/api/admin/orders?status=review&limit=100').set('Cookie', admin.cookie).expect(200);
    expect(res.body.items.map((o: { id: string }) => o.id)).toContain(order.id);
    expect(res.body.items.every((o: { status: string }) => o.status === 'review')).toBe(true);
    await t.request.get('/api/admin/orders?status=lost').set('Cookie', admin.cookie).expect(400);
  });

  it('accept: the order is paid, its stock is taken again, and the action is in the audit log with before and after', async () => {
    const { order, product } = await reviewOrder(3, 2);
    expect(await stockOf(product.id)).toBe(3);
    const res = await t.request
      .post(`/api/admin/orders/${order.id}/resolve`)
      .set('Cookie', admin.cookie)
      .send({ action: 'accept' })
      .expect(200);
    expect(res.body).toMatchObject({ order: { id: order.id, status: 'paid' }, refund: null });
    expect(await stockOf(product.id)).toBe(1);
    const seen = await t.request.get(`/api/orders/${order.id}`).set('Cookie', buyer.cookie).expect(200);
    expect(seen.body.order.status).toBe('paid');

    const log = await t.request.get(`/api/admin/audit-log?targetType=order&targetId=${order.id}`).set('Cookie', admin.cookie).expect(200);
    expect(log.body.items).toHaveLength(1);
    expect(log.body.items[0]).toMatchObject({
      actorId: admin.id,
      action: 'order.accept',
      targetType: 'order',
      targetId: order.id,
      before: { status: 'review' },
      after: { status: 'paid' },
    });
    // Resolved once: a second resolution is refused and writes nothing.
    const again = await t.request
      .post(`/api/admin/orders/${order.id}/resolve`)
      .set('Cookie', admin.cookie)
      .send({ action: 'accept' })
      .expect(409);
    expect(['order_not_in_review', 'invalid_transition']).toContain(again.body.error.code);
    expect(await auditLines(order.id)).toHaveLength(1);
  });

  it('accept without enough stock left is refused, and nothing changes (no stock taken, no audit line)', async () => {
    const { order, product } = await reviewOrder(2, 2);
    // Someone else bought the released stock meanwhile.
    await placeCardOrder(t.request, await registerUser(t.request), [{ productId: product.id, quantity: 1 }]);
    const res = await t.request
      .post(`/api/admin/orders/${order.id}/resolve`)
      .set('Cookie', admin.cookie)
      .send({ action: 'accept' })
      .expect(409);
    expect(res.body.error.code).toBe('insufficient_stock');
    expect(await stockOf(product.id)).toBe(1);
    expect(await auditLines(order.id)).toHaveLength(0);
  });

  it('refund: Stripe refunds the payment (one refund, keyed by the order), the order is refunded, and it is audited', async () => {
    const { order, paymentIntentId } = await reviewOrder();
    const res = await t.request
      .post(`/api/admin/orders/${order.id}/resolve`)
      .set('Cookie', admin.cookie)
      .send({ action: 'refund' })
      .expect(200);
    expect(res.body.order).toMatchObject({ id: order.id, status: 'refunded' });
    expect(res.body.refund).toMatchObject({ provider: 'stripe', amountCents: order.totalCents });
    const refunds = stripe.requests.filter((r) => r.method === 'POST' && r.path === '/v1/refunds');
    const ours = refunds.filter((r) => new URLSearchParams(r.text).get('payment_intent') === paymentIntentId);
    expect(ours).toHaveLength(1);
    expect(new URLSearchParams(ours[0]!.text).get('amount')).toBe(String(order.totalCents));
    expect(ours[0]!.headers['idempotency-key']).toEqual(expect.stringContaining(order.id));
    const lines = await auditLines(order.id);
    expect(lines).toEqual([{ action: 'order.refund', actor_id: admin.id }]);
  });

  it('refund while Stripe is down: 503, the order stays in review, no audit line', async () => {
    const { order } = await reviewOrder();
    await stripe.setFault({ status: 500, body: { error: { type: 'api_error', message: 'boom' } } });
    try {
      const res = await t.request.post(`/api/admin/orders/${order.id}/resolve`).set('Cookie', admin.cookie).send({ action: 'refund' });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('payment_provider_unavailable');
    } finally {
      await stripe.setFault(undefined);
    }
    expect((await t.database.pool.query('SELECT status FROM orders WHERE id = $1', [order.id])).rows[0].status).toBe('review');
    expect(await auditLines(order.id)).toHaveLength(0);
  });

  it('an order not in review is not resolved here; a bad action is a 400; an unknown order a 404', async () => {
    const product = await listProduct(t.request, vendor, { stock: 2 });
    const pending = await placeCardOrder(t.request, buyer, [{ productId: product.id, quantity: 1 }]);
    const res = await t.request
      .post(`/api/admin/orders/${pending.id}/resolve`)
      .set('Cookie', admin.cookie)
      .send({ action: 'refund' })
      .expect(409);
    expect(res.body.error.code).toBe('order_not_in_review');
    await t.request.post(`/api/admin/orders/${pending.id}/resolve`).set('Cookie', admin.cookie).send({ action: 'keep' }).expect(400);
    await t.request
      .post('/api/admin/orders/00000000-0000-4000-8000-000000000000/resolve')
      .set('Cookie', admin.cookie)
      .send({ action: 'accept' })
      .expect(404);
    expect(await auditLines(pending.id)).toHaveLength(0);
  });
});

describe('suspensions', () => {
  it('a suspended user is signed out everywhere and cannot sign in; reinstated, they can', async () => {
    const user = await registerUser(t.request);
    await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200);
    const res = await t.request.post(`/api/admin/users/${user.id}/suspend`).set('Cookie', admin.cookie).expect(200);
    expect(res.body.before.suspendedAt).toBeNull();
    expect(res.body.after.suspendedAt).toEqual(expect.any(String));
    await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(401);
    const login = await t.request.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(403);
    expect(login.body.error.code).toBe('account_suspended');

    await t.request.post(`/api/admin/users/${user.id}/reinstate`).set('Cookie', admin.cookie).expect(200);
    await t.request.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(200);
    expect((await auditLines(user.id)).map((l) => l.action)).toEqual(['user.suspend', 'user.reinstate']);
  });

  it('an admin cannot suspend themselves; an unknown user is a 404 and leaves no audit line', async () => {
    const res = await t.request.post(`/api/admin/users/${admin.id}/suspend`).set('Cookie', admin.cookie).expect(409);
    expect(res.body.error.code).toBe('cannot_suspend_self');
    const ghost = '00000000-0000-4000-8000-00000000abcd';
    await t.request.post(`/api/admin/users/${ghost}/suspend`).set('Cookie', admin.cookie).expect(404);
    expect(await auditLines(ghost)).toHaveLength(0);
    expect(await auditLines(admin.id)).toHaveLength(0);
  });

  it("a suspended store's products vanish from the (cached) listing at once and come back on reinstatement", async () => {
    const store = await openStore(t.request, 'Soon Suspended');
    const product = await listProduct(t.request, store, { title: 'Suspicious widget' });
    const listed = async () => {
      const res = await t.request.get(`/api/products?vendorId=${store.vendorId}`).expect(200);
      return res.body.items.map((p: { id: string }) => p.id);
    };
    expect(await listed()).toEqual([product.id]);
    expect(await listed()).toEqual([product.id]); // now cached
    const res = await t.request.post(`/api/admin/vendors/${store.vendorId}/suspend`).set('Cookie', admin.cookie).expect(200);
    expect(res.body.after).toMatchObject({ id: store.vendorId, suspendedAt: expect.any(String) });
    expect(await listed()).toEqual([]);
    await t.request.get(`/api/products/${product.id}`).expect(404);

    await t.request.post(`/api/admin/vendors/${store.vendorId}/reinstate`).set('Cookie', admin.cookie).expect(200);
    expect(await listed()).toEqual([product.id]);
    expect((await auditLines(store.vendorId)).map((l) => l.action)).toEqual(['vendor.suspend', 'vendor.reinstate']);
  });
});

describe('the audit log', () => {
  it('pages newest first with a cursor, and refuses a forged cursor', async () => {
    const users = await Promise.all([1, 2, 3].map(() => registerUser(t.request)));
    for (const user of users) await t.request.post(`/api/admin/users/${user.id}/suspend`).set('Cookie', admin.cookie).expect(200);
    const first = await t.request.get('/api/admin/audit-log?limit=2&targetType=user').set('Cookie', admin.cookie).expect(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await t.request
      .get(`/api/admin/audit-log?limit=2&targetType=user&cursor=${first.body.nextCursor}`)
      .set('Cookie', admin.cookie)
      .expect(200);
    const seen = [...first.body.items, ...second.body.items].map((e: { targetId: string }) => e.targetId);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, 3)).toEqual(users.map((u) => u.id).reverse());
    const forged = await t.request.get('/api/admin/audit-log?cursor=bm90LWEtY3Vyc29y').set('Cookie', admin.cookie).expect(400);
    expect(forged.body.error.code).toBe('invalid_cursor');
  });
});
