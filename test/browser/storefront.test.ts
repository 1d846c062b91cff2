import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app';
import { listProduct, openStore, type Vendor } from '../support/catalogue';
import { type FakeStripe, startFakeStripe } from '../support/fake-stripe';
import { deliverStripeEvent, signStripeEvent } from '../support/stripe-events';
import { launchChromium } from './chromium';
import { type StorefrontServer, startStorefrontServer } from './storefront-server';

/*
 * A storefront page on http://127.0.0.1:<B> calling the API on http://127.0.0.1:<A>: another
 * origin (CORS, preflights, the CSRF origin check) but the same site (ports do not make a site),
 * so the SameSite=Lax session cookie travels with `credentials: 'include'`.
 */
const WEBHOOK_SECRET = 'whsec_browser_test_secret';
const DOCS_SCREENSHOT = path.join(__dirname, '..', '..', 'artifacts', 'api-docs.png');

type Storefront = {
  register(email: string, password: string, name: string): Promise<{ status: number; userId?: string }>;
  logout(): Promise<{ status: number }>;
  login(email: string, password: string): Promise<{ status: number }>;
  me(): Promise<{ status: number; email?: string }>;
  products(q?: string): Promise<{ status: number; titles: string[]; ids: string[] }>;
  placeOrder(productId: string, quantity: number): Promise<{ status: number; order?: { id: string; status: string; totalCents: number } }>;
  connect(): Promise<void>;
  nextNotification(): Promise<{ id: string; type: string; payload: Record<string, unknown> }>;
};
declare const storefront: Storefront;

let t: TestApp;
let api: string;
let shop: StorefrontServer;
let stripe: FakeStripe;
let browser: Browser;
let vendor: Vendor;

async function openStorefront(): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${shop.origin}/`);
  await page.waitForFunction(() => 'storefront' in globalThis);
  return page;
}

beforeAll(async () => {
  [shop, stripe, browser] = await Promise.all([startStorefrontServer(), startFakeStripe(), launchChromium()]);
  t = await startTestApp({
    env: {
      CORS_ORIGINS: shop.origin,
      STRIPE_SECRET_KEY: 'sk_test_browser_fake_key_123456',
      STRIPE_PUBLISHABLE_KEY: 'pk_test_browser_fake_key',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_URL: stripe.url,
    },
  });
  api = await t.listen();
  shop.useApi(api);
  vendor = await openStore(t.request, 'Teapot Works');
  await listProduct(t.request, vendor, { title: 'Blue Teapot', priceCents: 2_500 });
  await listProduct(t.request, vendor, { title: 'Green Teapot', priceCents: 2_700 });
  await listProduct(t.request, vendor, { title: 'Red Mug', priceCents: 900 });
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  await Promise.all([shop?.close(), stripe?.close()]);
});

it('a storefront on another origin registers, signs in with the cookie, lists and searches, orders, and its vendor hears the payment over the WebSocket', async () => {
  const buyer = await openStorefront();
  const email = `shopper-${randomBytes(4).toString('hex')}@example.com`;
  const password = `Pw-${randomBytes(12).toString('base64url')}`;

  expect(await buyer.evaluate(([e, p]) => storefront.register(e, p, 'Browser Shopper'), [email, password])).toMatchObject({ status: 201 });
  expect(await buyer.evaluate(() => storefront.logout())).toMatchObject({ status: expect.any(Number) });
  expect(await buyer.evaluate(() => storefront.me())).toEqual({ status: 401 });
  expect(await buyer.evaluate(([e, p]) => storefront.login(e, p), [email, password])).toEqual({ status: 200 });
  expect(await buyer.evaluate(() => storefront.me())).toEqual({ status: 200, email });
  await expect(buyer.locator('#who').textContent()).resolves.toBe('Signed in as Browser Shopper');

  const all = await buyer.evaluate(() => storefront.products());
  expect(all.titles).toEqual(expect.arrayContaining(['Blue Teapot', 'Green Teapot', 'Red Mug']));
  const teapots = await buyer.evaluate(() => storefront.products('teapot'));
  expect([...teapots.titles].sort()).toEqual(['Blue Teapot', 'Green Teapot']);
  await expect(buyer.locator('#products li').allTextContents()).resolves.toEqual(expect.arrayContaining(['Blue Teapot: 25.00']));

  // The vendor's dashboard, in a browser context of its own (its own cookie jar), listens.
  const dashboard = await openStorefront();
  expect(await dashboard.evaluate(([e, p]) => storefront.login(e, p), [vendor.email, vendor.password])).toEqual({ status: 200 });
  await dashboard.evaluate(() => storefront.connect());

  const blueTeapot = teapots.ids[teapots.titles.indexOf('Blue Teapot')] as string;
  const placed = await buyer.evaluate(([id]) => storefront.placeOrder(id, 2), [blueTeapot]);
  expect(placed).toMatchObject({ status: 201, order: { status: 'pending', totalCents: 5_000 } });
  const orderId = placed.order?.id as string;

  // Stripe confirms the card payment (the test plays Stripe's webhook delivery).
  const event = signStripeEvent(WEBHOOK_SECRET, 'payment_intent.succeeded', {
    id: `pi_browser_${randomBytes(4).toString('hex')}`,
    object: 'payment_intent',
    amount: 5_000,
    amount_received: 5_000,
    currency: 'usd',
    metadata: { orderId },
  });
  await deliverStripeEvent(t.request, event).expect(200);

  const notification = await dashboard.evaluate(() => storefront.nextNotification());
  expect(notification).toMatchObject({ type: 'order.paid', payload: { orderId, totalCents: 5_000 } });
  await expect(dashboard.locator('#notifications li').first().textContent()).resolves.toContain('order.paid');
});

it('a page on an origin not in CORS_ORIGINS cannot read the API (no CORS headers: the browser refuses the response)', async () => {
  // localhost is another origin than 127.0.0.1 and not listed.
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${shop.origin.replace('127.0.0.1', 'localhost')}/`);
  await page.waitForFunction(() => 'storefront' in globalThis);
  const outcome = await page.evaluate(() =>
    storefront.products().then(
      () => 'read',
      (error: Error) => error.name,
    ),
  );
  expect(outcome).toBe('TypeError');
});

it('the API reference at /api/docs renders in the browser from this server alone, and a screenshot is kept', async () => {
  const page = await (await browser.newContext()).newPage();
  const refused: string[] = [];
  page.on('console', (message) => {
    // The browser asks every site for /favicon.ico; an API has none, and its 404 is no failure of the page.
    if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) refused.push(message.text());
  });
  page.on('request', (request) => {
    if (!request.url().startsWith(api)) refused.push(`external request: ${request.url()}`);
  });
  // The page's script is the Scalar bundle from node_modules (@scalar/api-reference), served by this server.
  const script = await page.request.get(`${api}/api/docs/scalar.js`);
  expect({ status: script.status(), body: script.status() === 200 ? '' : await script.text() }).toEqual({ status: 200, body: '' });
  await page.goto(`${api}/api/docs`);
  // An operation's summary from the served document, in the first (open) group: the document was fetched and rendered.
  await page.getByText('Health of every component (operators only)').first().waitFor({ timeout: 15_000 });
  await page.locator('h1', { hasText: 'Marketplace API' }).first().waitFor({ timeout: 5_000 });
  mkdirSync(path.dirname(DOCS_SCREENSHOT), { recursive: true });
  await page.screenshot({ path: DOCS_SCREENSHOT, fullPage: false });
  expect(refused).toEqual([]);
});
