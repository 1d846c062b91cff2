import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { deliverStripeEvent, signStripeEvent } from '../../support/stripe-events';
import { registerUser, type SignedInUser } from '../../support/users';
import { placeCardOrder } from '../../support/orders';

/*
 * An order with lines from several stores: each store sees its own lines and what they come
 * to, never the other stores' lines nor the grand total; the buyer sees all of it.
 */
const WEBHOOK_SECRET = 'whsec_test_vendor_view';
let t: TestApp;
let hats: Vendor;
let shoes: Vendor;
let buyer: SignedInUser;
let order: { id: string; totalCents: number };
let hat: { id: string };
let scarf: { id: string };
let boot: { id: string };
beforeAll(async () => {
  // Signed webhooks only: no Stripe API call is made (the intent's metadata names the order).
  t = await startTestApp({ env: { STRIPE_SECRET_KEY: 'sk_test_fake_key_1234567890', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } });
  hats = await openStore(t.request, 'Hats');
  shoes = await openStore(t.request, 'Shoes');
  buyer = await registerUser(t.request);
  hat = await listProduct(t.request, hats, { priceCents: 2_000, stock: 5 });
  scarf = await listProduct(t.request, hats, { priceCents: 500, stock: 5 });
  boot = await listProduct(t.request, shoes, { priceCents: 9_000, stock: 5 });
  order = await placeCardOrder(t.request, buyer, [
    { productId: hat.id, quantity: 2 },
    { productId: boot.id, quantity: 1 },
    { productId: scarf.id, quantity: 3 },
  ]);
});
afterAll(() => t.close());

const productIds = (items: Array<{ productId: string }>) => items.map((i) => i.productId).sort();

it('when the buyer reads a shared order, then they see every line and the grand total', async () => {
  const res = await t.request.get(`/api/orders/${order.id}`).set('Cookie', buyer.cookie).expect(200);
  expect(res.body.order).toMatchObject({ view: 'buyer', totalCents: 2 * 2_000 + 9_000 + 3 * 500 });
  expect(productIds(res.body.order.items)).toEqual([hat.id, boot.id, scarf.id].sort());
});

it('when a vendor reads a shared order, then they see only their own lines and their subtotal', async () => {
  const asHats = (await t.request.get(`/api/orders/${order.id}`).set('Cookie', hats.cookie).expect(200)).body.order;
  expect(asHats).toMatchObject({ id: order.id, view: 'vendor', totalCents: 2 * 2_000 + 3 * 500, crypto: null });
  expect(productIds(asHats.items)).toEqual([hat.id, scarf.id].sort());
  expect(asHats.items.every((i: { vendorId: string }) => i.vendorId === hats.vendorId)).toBe(true);

  const asShoes = (await t.request.get(`/api/orders/${order.id}`).set('Cookie', shoes.cookie).expect(200)).body.order;
  expect(asShoes).toMatchObject({ view: 'vendor', totalCents: 9_000 });
  expect(productIds(asShoes.items)).toEqual([boot.id]);
  expect(JSON.stringify(asShoes)).not.toContain(String(order.totalCents));
});

it("when the shared order is paid, then each vendor's notification carries their own subtotal, not the order's total", async () => {
  const event = signStripeEvent(WEBHOOK_SECRET, 'payment_intent.succeeded', {
    id: `pi_${order.id.slice(0, 8)}`,
    object: 'payment_intent',
    amount: order.totalCents,
    amount_received: order.totalCents,
    currency: 'usd',
    metadata: { orderId: order.id },
  });
  await deliverStripeEvent(t.request, event).expect(200);
  const paidOf = async (vendor: Vendor) =>
    (await t.request.get('/api/notifications').set('Cookie', vendor.cookie).expect(200)).body.notifications.find(
      (n: { type: string }) => n.type === 'order.paid',
    );
  expect((await paidOf(hats)).payload).toEqual({ orderId: order.id, totalCents: 5_500, currency: 'usd' });
  expect((await paidOf(shoes)).payload).toEqual({ orderId: order.id, totalCents: 9_000, currency: 'usd' });
});
