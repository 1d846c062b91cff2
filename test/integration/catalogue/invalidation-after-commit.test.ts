import { sql } from 'drizzle-orm';
import type { UnitOfWork } from '../../../server/db';
import type { CatalogueModule, ReservationRow, StockLine } from '../../../server/modules/catalogue';
import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { waitFor } from '../../support/wait-for';

/*
 * Cache invalidation is an effect of a unit of work: recorded inside the transaction, heard by
 * other instances exactly when it commits (NOTIFY), applied here right after COMMIT.
 */
let a: TestApp;
let b: TestApp;
let vendor: Vendor;
const catalogueOf = (t: TestApp) => t.app.modules.find((m) => m.name === 'catalogue') as CatalogueModule;

beforeAll(async () => {
  a = await startTestApp();
  b = await startTestApp({ testDatabase: a.testDatabase });
  vendor = await openStore(a.request);
});
afterAll(async () => {
  await b.close();
  await a.close();
});

/** Reserves stock as an order placement does, in a statement of its own (the checkout adds its order to it). */
async function reserveStock(t: TestApp, unit: UnitOfWork, lines: StockLine[]) {
  const plan = catalogueOf(t).planStockReservation(unit, lines);
  const { rows } = await unit.tx.execute<ReservationRow & Record<string, unknown>>(
    sql`WITH ${plan.ctes} SELECT * FROM reservation ORDER BY position`,
  );
  return plan.settle(rows);
}

/**
 * Reads on `t` until the answer is served from its cache: the NOTIFY of the write that created
 * the row may reach `t` after its first read, and drop (or keep from being stored) that answer.
 */
const cachedOn = (t: TestApp, path: string) =>
  waitFor(
    `${path} to be cached`,
    async () => {
      const res = await t.request.get(path).expect(200);
      return res.headers['x-cache'] === 'HIT' && res.body;
    },
    { timeoutMs: 5_000, intervalMs: 20 },
  );

/** Reads on `t` until the cached answer has gone (the NOTIFY travels asynchronously). */
const waitForMiss = (t: TestApp, path: string) =>
  waitFor(
    `${path} to be dropped from the other instance's cache`,
    async () => {
      const res = await t.request.get(path).expect(200);
      return res.headers['x-cache'] === 'MISS' && res.body;
    },
    { timeoutMs: 5_000, intervalMs: 20 },
  );

it('a rolled-back unit of work invalidates nothing, here or on another instance', async () => {
  const product = await listProduct(a.request, vendor, { stock: 7 });
  const marker = await listProduct(a.request, vendor);
  const detail = `/api/products/${product.id}`;
  await cachedOn(a, detail);
  await cachedOn(b, detail);
  await cachedOn(b, `/api/products/${marker.id}`);

  await expect(
    a.database.transaction(async (unit) => {
      await reserveStock(a, unit, [{ productId: product.id, quantity: 2 }]);
      throw new Error('payment refused');
    }),
  ).rejects.toThrow('payment refused');
  // A committed invalidation sent after the rolled-back one: once B has it, B would have had
  // the first too (one connection, delivered in commit order).
  await a.database.transaction((unit) => reserveStock(a, unit, [{ productId: marker.id, quantity: 1 }]));
  await waitForMiss(b, `/api/products/${marker.id}`);

  for (const t of [a, b]) {
    const res = await t.request.get(detail).expect(200);
    expect(res.headers['x-cache']).toBe('HIT');
    expect(res.body.product.stock).toBe(7);
  }
});

it('a committed unit of work invalidates other instances even if this process never runs its after-commit effects', async () => {
  const product = await listProduct(a.request, vendor, { stock: 7 });
  const detail = `/api/products/${product.id}`;
  await cachedOn(b, detail);

  // The process "dies" right after COMMIT: its in-process effects are dropped, never run.
  const dropped: Array<() => unknown> = [];
  await a.database.db.transaction(async (tx) => {
    const unit: UnitOfWork = {
      tx: tx as unknown as UnitOfWork['tx'],
      query: () => Promise.reject(new Error('not used')),
      afterCommit: (effect) => {
        dropped.push(effect);
      },
    };
    await reserveStock(a, unit, [{ productId: product.id, quantity: 3 }]);
  });
  expect(dropped.length).toBeGreaterThan(0);

  const fresh = await waitForMiss(b, detail);
  expect(fresh.product.stock).toBe(4);
});
