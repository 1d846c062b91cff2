import type pg from 'pg';
import { Client } from 'pg';
import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { registerUser, type SignedInUser } from '../../support/users';
import { waitFor } from '../../support/wait-for';

/*
 * What one card checkout (POST /api/orders) costs the database, counted per query call (one
 * call = one round trip) on each pool, the rate limiter's included (a checkout's buckets count in
 * memory; their periodic sync is held off here so that it cannot land inside the count). Not
 * counted: pg-boss's background polling.
 */
let t: TestApp;
let vendor: Vendor;
beforeAll(async () => {
  t = await startTestApp({ env: { RATE_LIMIT_SYNC_MS: '600000' } });
  vendor = await openStore(t.request);
});
afterAll(() => t.close());

const textOf = (config: unknown) => (typeof config === 'string' ? config : ((config as { text?: string } | undefined)?.text ?? ''));

/** The statements `action` sends through the app pool and through the session pool. */
async function roundTripsOf(action: () => Promise<unknown>): Promise<{ app: string[]; session: string[] }> {
  // The welcome e-mails of the users just registered are delivered in the background on the same pool.
  await waitFor('the welcome e-mails to leave the outbox', async () => {
    const { rows } = await t.database.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM email_outbox WHERE status = 'pending'`);
    return rows[0]!.n === 0;
  });
  const watched: Array<() => void> = [];
  const clientsOf = (pool: pg.Pool) => {
    const clients = new Set<unknown>();
    const record = (client: unknown) => clients.add(client);
    pool.on('acquire', record);
    watched.push(() => pool.off('acquire', record));
    return clients;
  };
  const appClients = clientsOf(t.database.pool);
  const sessionClients = clientsOf(t.sessionDatabase.pool);
  const query = jest.spyOn(Client.prototype, 'query');
  try {
    await action();
    const sent = query.mock.calls
      .map(([config], i) => ({ text: textOf(config), client: query.mock.contexts[i] }))
      .filter(({ text }) => !text.includes('pgboss'));
    return {
      app: sent.filter((s) => appClients.has(s.client)).map((s) => s.text.trim()),
      session: sent.filter((s) => sessionClients.has(s.client)).map((s) => s.text.trim()),
    };
  } finally {
    query.mockRestore();
    for (const stop of watched) stop();
  }
}

const checkout = (buyer: SignedInUser, items: Array<{ productId: string; quantity: number }>) =>
  t.request.post('/api/orders').set('Cookie', buyer.cookie).send({ items, paymentMethod: 'card' });

it('when a signed-in buyer checks out one line by card, then it costs 4 round trips: 3 on the app pool and 1 session lookup', async () => {
  const product = await listProduct(t.request, vendor, { stock: 10 });
  const buyer = await registerUser(t.request);
  const sent = await roundTripsOf(() => checkout(buyer, [{ productId: product.id, quantity: 2 }]).expect(201));
  // BEGIN with the buyer's lock; the reservation (with its cache broadcast) and the order with its lines in one statement; COMMIT.
  expect(sent.app).toHaveLength(3);
  expect(sent.app[0]).toMatch(/^BEGIN; SELECT pg_advisory_xact_lock\(-?\d+\)$/);
  expect(sent.app[1]).toContain('UPDATE products');
  expect(sent.app[1]).toContain('INSERT INTO order_items');
  expect(sent.app[2]).toBe('COMMIT');
  expect(sent.session).toHaveLength(1);
  expect(sent.session[0]).toContain('session_store');
});

it('when the order has three lines, then it still costs 3 round trips on the app pool: the reservation and the lines are one statement', async () => {
  const products = await Promise.all([1, 2, 3].map(() => listProduct(t.request, vendor, { stock: 10 })));
  const buyer = await registerUser(t.request);
  const sent = await roundTripsOf(async () => {
    const res = await checkout(
      buyer,
      products.map((p, i) => ({ productId: p.id, quantity: i + 1 })),
    ).expect(201);
    const lines = res.body.order.items.map((i: { productId: string; quantity: number }) => [i.productId, i.quantity]);
    expect(lines).toHaveLength(3);
    expect(lines).toEqual(expect.arrayContaining(products.map((p, i) => [p.id, i + 1])));
  });
  expect(sent.app).toHaveLength(3);
  const stock = await t.database.pool.query<{ stock: number }>('SELECT stock FROM products WHERE id = ANY($1::uuid[]) ORDER BY stock', [
    products.map((p) => p.id),
  ]);
  expect(stock.rows.map((r) => r.stock)).toEqual([7, 8, 9]);
});

it('when a line is short of stock, then nothing is written: BEGIN, the one statement, ROLLBACK', async () => {
  const product = await listProduct(t.request, vendor, { stock: 1 });
  const buyer = await registerUser(t.request);
  const sent = await roundTripsOf(async () => {
    const res = await checkout(buyer, [{ productId: product.id, quantity: 2 }]).expect(409);
    expect(res.body.error).toMatchObject({ code: 'insufficient_stock', details: { available: 1, requested: 2 } });
  });
  expect(sent.app).toHaveLength(3);
  expect(sent.app[2]).toBe('ROLLBACK');
  const { rows } = await t.database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE buyer_id = $1', [buyer.id]);
  expect(rows[0]!.n).toBe(0);
});

it('when a checkout reserves stock, then the cached product detail shows the new stock (the broadcast rides in the reservation)', async () => {
  const product = await listProduct(t.request, vendor, { stock: 10 });
  const buyer = await registerUser(t.request);
  const other = await startTestApp({ testDatabase: t.testDatabase });
  try {
    const detail = `/api/products/${product.id}`;
    await other.request.get(detail).expect(200);
    expect((await other.request.get(detail).expect(200)).headers['x-cache']).toBe('HIT');
    await t.request.get(detail).expect(200);
    await checkout(buyer, [{ productId: product.id, quantity: 3 }]).expect(201);
    // This instance dropped its own answer right after COMMIT.
    expect((await t.request.get(detail).expect(200)).body.product.stock).toBe(7);
    // The other instance heard the NOTIFY sent inside the reservation statement.
    await waitFor('the other instance to drop its cached detail', async () => {
      const res = await other.request.get(detail).expect(200);
      return res.body.product.stock === 7 && res.headers['x-cache'] === 'MISS';
    });
  } finally {
    await other.close();
  }
});
