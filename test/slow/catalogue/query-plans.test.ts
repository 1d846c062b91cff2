import type { PoolClient } from 'pg';
import type { Database } from '../../../server/db';
import type { ProductFilters } from '../../../server/modules/catalogue/catalogue.repository';
import { productListQuery } from '../../../server/modules/catalogue';
import { createTestDatabase, openTestDatabase, type TestDatabase } from '../../support/database';
import { captureLogger } from '../../support/logger';

/*
 * The list query for each main path, EXPLAINed on 100k products: every one must walk an index
 * (never a sequential scan of products), including the page after a cursor.
 *
 * Slow suite (`npm run test:slow`): seeding 100k rows takes seconds on a busy machine. Nothing
 * here measures time: plans come from EXPLAIN (no ANALYZE run), statistics from ANALYZE after
 * seeding, and every statement runs on one session with its own generous statement timeout
 * instead of the pool's 10 s.
 */
const STATEMENT_TIMEOUT = '10min';

let testDatabase: TestDatabase;
let database: Database;
let session: PoolClient;
let vendorId: string;
beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = openTestDatabase(testDatabase.url, captureLogger().logger, { max: 2 });
  session = await database.pool.connect();
  await session.query(`SET statement_timeout = '${STATEMENT_TIMEOUT}'`);
  const { rows } = await session.query(`
    WITH u AS (
      INSERT INTO users (email, password_hash, name)
      SELECT 'v' || g || '@example.com', 'x', 'V' || g FROM generate_series(1, 50) g RETURNING id
    )
    INSERT INTO vendors (user_id, store_name) SELECT id, 'Store' FROM u RETURNING id`);
  vendorId = rows[0].id;
  await session.query(
    `INSERT INTO products (vendor_id, title, description, price_cents, stock, category, created_at)
     SELECT (ARRAY[${rows.map((_r, i) => `$${i + 1}::uuid`).join(',')}])[1 + g % 50],
            'Item ' || g || ' ' || (ARRAY['lamp','rug','chair','table','vase'])[1 + g % 5],
            'Made of ' || (ARRAY['oak','wool','glass','steel','clay','merino'])[1 + g % 6] || ' model zx' || (g % 1000),
            (g * 37) % 100000, 10, 'cat' || (g % 40), now() - g * interval '1 second'
     FROM generate_series(1, 100000) g`,
    rows.map((r) => r.id),
  );
  await session.query('ANALYZE products');
}, 15 * 60_000);
afterAll(async () => {
  session?.release();
  await database?.close();
  await testDatabase?.drop();
});

async function planOf(filters: Partial<ProductFilters>, after?: { value: string; id: string }): Promise<string> {
  const full: ProductFilters = { sort: 'newest', limit: 20, ...filters };
  const query = productListQuery(database.db, full, after ? { sort: full.sort, ...after } : undefined).toSQL();
  const { rows } = await session.query(`EXPLAIN ${query.sql}`, query.params as unknown[]);
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

it.each<[string, Partial<ProductFilters>]>([
  ['newest', {}],
  ['price ascending', { sort: 'price_asc' }],
  ['price descending', { sort: 'price_desc' }],
  ['category, newest', { category: 'cat7' }],
  ['category, by price', { category: 'cat7', sort: 'price_asc' }],
  ['vendor, newest', { vendorId: '' }],
  ['price range', { minPrice: 1_000, maxPrice: 2_000, sort: 'price_asc' }],
  ['full-text search', { q: 'zx42' }],
  ['full-text search within a category', { q: 'zx42 lamp', category: 'cat2' }],
])('%s uses an index, not a sequential scan', async (_name, filters) => {
  const plan = await planOf(filters.vendorId === '' ? { ...filters, vendorId } : filters);
  expect(plan).not.toMatch(/Seq Scan on products/);
  expect(plan).toMatch(/Index|Bitmap/);
});

it('the page after a cursor is also an index range scan', async () => {
  const plan = await planOf({ sort: 'newest' }, { value: '1700000000000000', id: '00000000-0000-4000-8000-000000000000' });
  expect(plan).not.toMatch(/Seq Scan on products/);
  expect(plan).toMatch(/Index Scan using products_newest_idx/);
  const pricePlan = await planOf({ sort: 'price_asc' }, { value: '5000', id: '00000000-0000-4000-8000-000000000000' });
  expect(pricePlan).toMatch(/Index Scan using products_price_idx/);
});
