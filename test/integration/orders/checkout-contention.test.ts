import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { registerUser, type SignedInUser } from '../../support/users';
import { waitFor } from '../../support/wait-for';

/*
 * The one-statement reservation under contention: many buyers, orders of one or two lines in
 * either line order, and cancels putting units back while others reserve.
 */
let t: TestApp;
let vendor: Vendor;
beforeAll(async () => {
  t = await startTestApp();
  vendor = await openStore(t.request);
});
afterAll(() => t.close());

const place = (buyer: SignedInUser, items: Array<{ productId: string; quantity: number }>) =>
  t.request.post('/api/orders').set('Cookie', buyer.cookie).send({ items, paymentMethod: 'card' });

it('when 40 buyers race for 300 units with mixed lines and cancels, then nothing is oversold and every answer is 201, 200 or 409', async () => {
  const a = await listProduct(t.request, vendor, { stock: 150 });
  const b = await listProduct(t.request, vendor, { stock: 150 });
  const buyers = await Promise.all(Array.from({ length: 40 }, () => registerUser(t.request)));
  // Fixed, varied baskets: one line of either product, or both lines in either order.
  const basket = (n: number) => {
    const qa = 1 + (n % 10);
    const qb = 1 + ((n * 7) % 10);
    return [
      [{ productId: a.id, quantity: qa }],
      [{ productId: b.id, quantity: qb }],
      [
        { productId: a.id, quantity: qa },
        { productId: b.id, quantity: qb },
      ],
      [
        { productId: b.id, quantity: qb },
        { productId: a.id, quantity: qa },
      ],
    ][n % 4]!;
  };
  const statuses: number[] = [];
  const refusals: string[] = [];
  await Promise.all(
    buyers.map(async (buyer, i) => {
      const record = (res: { status: number; body: { error?: { code: string } } }) => {
        statuses.push(res.status);
        if (res.body.error) refusals.push(res.body.error.code);
        return res;
      };
      const first = record(await place(buyer, basket(i * 3)));
      record(await place(buyer, basket(i * 3 + 1)));
      // Units going back while the others reserve.
      if (first.status === 201)
        record(
          await t.request.post(`/api/orders/${(first.body as { order: { id: string } }).order.id}/cancel`).set('Cookie', buyer.cookie),
        );
      record(await place(buyer, basket(i * 3 + 2)));
    }),
  );
  expect(statuses.filter((s) => ![200, 201, 409].includes(s))).toEqual([]);
  expect(new Set(refusals)).toEqual(new Set(['insufficient_stock']));

  const { rows } = await t.database.pool.query<{ id: string; stock: number; held: number }>(
    `SELECT p.id, p.stock, coalesce((SELECT sum(oi.quantity) FROM order_items oi JOIN orders o ON o.id = oi.order_id
       WHERE oi.product_id = p.id AND o.status = 'pending'), 0)::int AS held
     FROM products p WHERE p.id = ANY($1::uuid[])`,
    [[a.id, b.id]],
  );
  for (const row of rows) {
    expect(row.stock).toBeGreaterThanOrEqual(0);
    expect(row.held).toBeLessThanOrEqual(150);
    // Every unit is either on the shelf or held by an unpaid order: none lost, none sold twice.
    expect(row.stock + row.held).toBe(150);
  }
}, 120_000);

it('when a cancelled order’s units come back while a checkout waits for the product, then the checkout gets them', async () => {
  const product = await listProduct(t.request, vendor, { stock: 2 });
  const first = await registerUser(t.request);
  const second = await registerUser(t.request);
  const held = (await place(first, [{ productId: product.id, quantity: 2 }]).expect(201)).body.order;
  const waiting = async () =>
    (
      await t.database.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND pid IN (SELECT pid FROM pg_stat_activity WHERE datname = current_database())',
      )
    ).rows[0]!.n;
  // Another writer (a vendor's edit, say) holds the product row, so both requests below queue for it.
  const writer = await t.database.pool.connect();
  try {
    await writer.query('BEGIN');
    await writer.query('SELECT 1 FROM products WHERE id = $1 FOR UPDATE', [product.id]);
    const cancel = t.request
      .post(`/api/orders/${held.id}/cancel`)
      .set('Cookie', first.cookie)
      .then((r) => r);
    await waitFor('the cancel to queue for the product row', async () => (await waiting()) === 1);
    let answered = false;
    const checkout = place(second, [{ productId: product.id, quantity: 2 }]).then((r) => {
      answered = true;
      return r;
    });
    // Queued behind the cancel (or, as before, refused at once from its snapshot's empty shelf).
    await waitFor('the checkout to queue behind the cancel', async () => answered || (await waiting()) === 2);
    await writer.query('COMMIT');
    expect((await cancel).status).toBe(200);
    const res = await checkout;
    expect(res.body.error).toBeUndefined();
    expect(res.status).toBe(201);
  } finally {
    writer.release();
  }
  const { rows } = await t.database.pool.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [product.id]);
  expect(rows[0]!.stock).toBe(0);
});
