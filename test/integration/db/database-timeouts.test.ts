import pg from 'pg';
import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { createTestDatabase, openTestDatabase, type TestDatabase } from '../../support/database';
import { captureLogger } from '../../support/logger';

/*
 * A statement that takes too long is the database's problem, not a bug: whether the server
 * cancels it (statement_timeout, SQLSTATE 57014) or the client stops waiting for an answer
 * (pg's query_timeout, what a frozen server leaves), the caller gets 503 database_timeout with
 * Retry-After, never 500. A row lock held by another session makes the route's UPDATE wait.
 */
let testDatabase: TestDatabase;
let vendor: Vendor;
const apps: TestApp[] = [];

async function appWith(settings: { statementTimeoutMillis: number; queryTimeoutMillis: number }): Promise<TestApp> {
  const capture = captureLogger();
  const t = await startTestApp({ capture, testDatabase, database: openTestDatabase(testDatabase.url, capture.logger, settings) });
  apps.push(t);
  return t;
}

beforeAll(async () => {
  testDatabase = await createTestDatabase();
});
afterAll(async () => {
  for (const t of apps) {
    await t.close();
    await t.database.close();
  }
  await testDatabase.drop();
});

/** Holds a row lock on the product from another session until the returned function is called. */
async function lockProduct(productId: string): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: testDatabase.url });
  await client.connect();
  await client.query('BEGIN');
  await client.query('SELECT 1 FROM products WHERE id = $1 FOR UPDATE', [productId]);
  return async () => {
    await client.query('COMMIT');
    await client.end();
  };
}

it.each([
  ['the server cancels the statement (57014)', { statementTimeoutMillis: 300, queryTimeoutMillis: 0 }],
  ['the client stops waiting (query_timeout)', { statementTimeoutMillis: 0, queryTimeoutMillis: 300 }],
])('when %s: 503 database_timeout with Retry-After; the next request succeeds', async (_name, settings) => {
  const t = await appWith(settings);
  vendor ??= await openStore(t.request);
  const product = await listProduct(t.request, vendor, { priceCents: 1_000 });
  const unlock = await lockProduct(product.id);
  try {
    const started = Date.now();
    const res = await t.request.patch(`/api/products/${product.id}`).set('Cookie', vendor.cookie).send({ priceCents: 1_100 });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('database_timeout');
    expect(res.headers['retry-after']).toBe('5');
  } finally {
    await unlock();
  }
  await t.request.patch(`/api/products/${product.id}`).set('Cookie', vendor.cookie).send({ priceCents: 1_200 }).expect(200);
  expect((await t.request.get(`/api/products/${product.id}`).expect(200)).body.product.priceCents).toBe(1_200);
});
