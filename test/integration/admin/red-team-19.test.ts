import { startTestApp, type TestApp } from '../../support/app';
import { openStore, type Vendor } from '../../support/catalogue';
import { ManualClock } from '../../support/clock';
import { type FakeStripe, startFakeStripe } from '../../support/fake-stripe';
import { placeLatePaidCardOrder } from '../../support/orders';
import { createAdmin, registerUser, type SignedInUser } from '../../support/users';
import { waitFor } from '../../support/wait-for';

/* Issue 19 red team, admin: holes found by racing and probing the admin console. */
const WEBHOOK_SECRET = 'whsec_admin_red_team';
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
    env: { STRIPE_SECRET_KEY: 'sk_test_admin_red_team_1234', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_API_URL: stripe.url },
    deps: { clock },
  });
  admin = await createAdmin(t);
  vendor = await openStore(t.request, 'Red Team Admin Store');
  buyer = await registerUser(t.request);
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

const orderRow = async (id: string) =>
  (await t.database.pool.query('SELECT status, refunded_cents FROM orders WHERE id = $1', [id])).rows[0] as {
    status: string;
    refunded_cents: number;
  };
const stockOf = async (productId: string) =>
  (await t.database.pool.query('SELECT stock FROM products WHERE id = $1', [productId])).rows[0].stock as number;

const reviewOrder = (stock: number) =>
  placeLatePaidCardOrder({ t, stripe, clock, webhookSecret: WEBHOOK_SECRET, vendor, buyer }, { stock, priceCents: 1_200, quantity: 1 });

describe('an admin accepts a review order while another admin refunds it', () => {
  it('when the accept arrives while the refund is at Stripe, then it waits for the refund and is refused: the order ends refunded, never sold', async () => {
    const { order, product } = await reviewOrder(4);
    // Stripe holds the refund until the accept is waiting.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    stripe.setHandler(async (req) => {
      if (req.method !== 'POST' || req.path !== '/v1/refunds') return { status: 404, body: { error: { type: 'invalid_request_error' } } };
      await held;
      const form = new URLSearchParams(req.text);
      return {
        body: {
          id: 're_red_team',
          object: 'refund',
          amount: Number(form.get('amount')),
          currency: 'usd',
          payment_intent: form.get('payment_intent'),
          status: 'succeeded',
        },
      };
    });
    const resolve = (action: 'accept' | 'refund') =>
      t.request.post(`/api/admin/orders/${order.id}/resolve`).set('Cookie', admin.cookie).send({ action });

    const refunding = resolve('refund').then((res) => res);
    await stripe.waitForRequests(1, (r) => r.path === '/v1/refunds');
    const accepting = resolve('accept').then((res) => res);
    // Before the fix the accept committed here (the order sold while Stripe paid the buyer back).
    await waitFor(
      'the accept to wait on the order being refunded',
      async () =>
        (
          await t.database.pool.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
          )
        ).rows[0].n > 0,
      { timeoutMs: 5_000, intervalMs: 20 },
    );
    release();
    const [refunded, accepted] = await Promise.all([refunding, accepting]);

    expect(refunded.status).toBe(200);
    expect(accepted.status).toBe(409);
    expect(accepted.body.error.code).toBe('invalid_transition');
    expect(await orderRow(order.id)).toEqual({ status: 'refunded', refunded_cents: order.totalCents });
    expect(await stockOf(product.id)).toBe(4);
    const { rows } = await t.database.pool.query('SELECT action FROM audit_log WHERE target_id = $1 ORDER BY created_at', [order.id]);
    expect(rows.map((r) => r.action)).toEqual(['order.refund']);
  });
});
