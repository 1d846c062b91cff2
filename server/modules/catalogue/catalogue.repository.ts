import { and, arrayOverlaps, asc, desc, eq, gte, inArray, isNotNull, isNull, lte, type SQL, sql } from 'drizzle-orm';
import { products, vendors } from '../../../shared/schema/catalogue';
import type { ProductSort } from '../../../shared/contracts';
import type { DbOrTx } from '../../db';
import type { CursorPosition } from './product-cursor';

export type VendorRow = typeof vendors.$inferSelect;
export type ProductRow = typeof products.$inferSelect;
export type NewProduct = Omit<typeof products.$inferInsert, 'id' | 'createdAt' | 'updatedAt' | 'deletedAt' | 'search'>;

export interface ProductFilters {
  q?: string;
  category?: string;
  vendorId?: string;
  minPrice?: number;
  maxPrice?: number;
  sort: ProductSort;
  limit: number;
}

/** A product row plus the exact keyset value of its sort column. */
export type ListedProduct = ProductRow & { sortKey: string };

export async function insertVendor(db: DbOrTx, values: { userId: string; storeName: string; description: string }): Promise<VendorRow> {
  const [row] = await db.insert(vendors).values(values).returning();
  return row!;
}

/**
 * Every category with its count of live products (not removed, store not suspended), by name.
 * Not paginated: categories are few next to products, and the answer is cached.
 */
export async function countProductsByCategory(db: DbOrTx): Promise<Array<{ name: string; productCount: number }>> {
  const name = sql<string>`${products.category}`;
  return db
    .select({ name, productCount: sql<number>`count(*)::int` })
    .from(products)
    .where(and(isNull(products.deletedAt), isNull(products.vendorSuspendedAt), isNotNull(products.category)))
    .groupBy(products.category)
    .orderBy(sql`lower(${products.category})`, asc(products.category));
}

export async function findVendorByUserId(db: DbOrTx, userId: string): Promise<VendorRow | undefined> {
  const [row] = await db.select().from(vendors).where(eq(vendors.userId, userId));
  return row;
}

export async function findVendorsByIds(db: DbOrTx, ids: readonly string[]): Promise<VendorRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(vendors)
    .where(inArray(vendors.id, [...new Set(ids)]));
}

export interface StockTaken {
  id: string;
  vendorId: string;
  title: string;
  priceCents: number;
  currency: string;
}

/** NOTIFY messages a statement sends along with its change (none when nobody listens). */
export interface Broadcast {
  channel: string;
  payloads: readonly string[];
}

/**
 * One line of a reservation: what was taken, or how much there was when it could not be
 * (`available` undefined: no such live product).
 */
export type StockReservation =
  | { productId: string; taken: StockTaken }
  | { productId: string; taken: undefined; available: number | undefined };

/** A row of the `reservation` CTE (reservationCtes), as the statement built on it returns it. */
export interface ReservationRow {
  product_id: string;
  id: string | null;
  vendor_id: string | null;
  title: string | null;
  price_cents: number | null;
  currency: string | null;
  available: number | null;
}

/**
 * Takes every line's units, as CTEs the caller's statement builds on (an order is written in the
 * same statement: one round trip, not two). They end in `reservation`: one row per line (columns
 * of ReservationRow plus `quantity` and `position`), `id` null where the line was not taken;
 * `broadcast` is sent with them. The rows are locked in id order first (a release and other
 * checkouts take them in the same order, so none deadlock). Both the check and the new stock come
 * from the locked row, the latest version, which nobody else can change until we commit: the
 * statement's snapshot was taken before the wait, so its `p.stock` may be older (a unit returned
 * meanwhile would be missed, and a new value computed from it trips the non-negative CHECK
 * before Postgres re-reads the row). So stock never goes below zero however many checkouts and
 * releases race. `lines` holds each product once. The caller's statement must read
 * `reservation` (an unread CTE that modifies nothing is never run, and the broadcast is in one).
 */
export function reservationCtes(lines: ReadonlyArray<{ productId: string; quantity: number }>, broadcast: Broadcast): SQL {
  return sql`
    l AS (
      SELECT * FROM unnest(${sql.param(lines.map((l) => l.productId))}::uuid[], ${sql.param(lines.map((l) => l.quantity))}::int[])
        WITH ORDINALITY AS l(product_id, quantity, position)
    ), locked AS (
      SELECT p.id, p.stock FROM products p
      WHERE p.id IN (SELECT product_id FROM l) AND p.deleted_at IS NULL AND p.vendor_suspended_at IS NULL
      ORDER BY p.id FOR UPDATE
    ), taken AS (
      UPDATE products p SET stock = locked.stock - l.quantity, updated_at = now()
      FROM l, locked
      WHERE p.id = l.product_id AND locked.id = p.id AND locked.stock >= l.quantity
      RETURNING p.id, p.vendor_id, p.title, p.price_cents, p.currency
    ), notified AS (
      SELECT count(pg_notify(${broadcast.channel}, payload)) AS n FROM unnest(${sql.param([...broadcast.payloads])}::text[]) AS payload
    ), reservation AS (
      SELECT l.position, l.product_id, l.quantity, t.id, t.vendor_id, t.title, t.price_cents, t.currency, locked.stock AS available
      FROM l LEFT JOIN locked ON locked.id = l.product_id LEFT JOIN taken t ON t.id = l.product_id CROSS JOIN notified
    )`;
}

/** The reservation's rows read back, in `lines` order (rows in `position` order). */
export function readReservation(rows: readonly ReservationRow[]): StockReservation[] {
  return rows.map((r) =>
    r.id
      ? {
          productId: r.product_id,
          taken: { id: r.id, vendorId: r.vendor_id!, title: r.title!, priceCents: r.price_cents!, currency: r.currency! },
        }
      : { productId: r.product_id, taken: undefined, available: r.available ?? undefined },
  );
}

export async function findLiveProductPrices(
  db: DbOrTx,
  productIds: readonly string[],
): Promise<Array<{ id: string; priceCents: number; currency: string }>> {
  if (productIds.length === 0) return [];
  return db
    .select({ id: products.id, priceCents: products.priceCents, currency: products.currency })
    .from(products)
    .where(and(inArray(products.id, [...productIds]), isNull(products.deletedAt), isNull(products.vendorSuspendedAt)));
}

/**
 * Puts units back on the shelf (a cancelled or expired order), one statement for all lines.
 * The rows are locked in id order first, the order checkout takes them in, so a release and a
 * checkout of the same products cannot deadlock.
 */
export async function returnStock(tx: DbOrTx, lines: ReadonlyArray<{ productId: string; quantity: number }>): Promise<string[]> {
  if (lines.length === 0) return [];
  const { rows } = await tx.execute<{ id: string }>(sql`
    WITH l AS (
      SELECT * FROM unnest(${sql.param(lines.map((l) => l.productId))}::uuid[], ${sql.param(lines.map((l) => l.quantity))}::int[]) AS l(product_id, quantity)
    ), locked AS (
      SELECT p.id FROM products p WHERE p.id IN (SELECT product_id FROM l) ORDER BY p.id FOR UPDATE
    )
    UPDATE products p SET stock = p.stock + l.quantity, updated_at = now()
    FROM l, locked
    WHERE p.id = l.product_id AND locked.id = p.id
    RETURNING p.id`);
  return rows.map((r) => r.id);
}

export async function insertProduct(db: DbOrTx, values: NewProduct): Promise<ProductRow> {
  const [row] = await db.insert(products).values(values).returning();
  return row!;
}

/** A live product: not deleted, and (unless its own vendor asks, `suspended`) its store not suspended. */
export async function findProduct(db: DbOrTx, id: string, suspended: 'hide' | 'include' = 'hide'): Promise<ProductRow | undefined> {
  const where = [eq(products.id, id), isNull(products.deletedAt)];
  if (suspended === 'hide') where.push(isNull(products.vendorSuspendedAt));
  const [row] = await db
    .select()
    .from(products)
    .where(and(...where));
  return row;
}

export async function updateProduct(db: DbOrTx, id: string, changes: Partial<NewProduct>): Promise<ProductRow | undefined> {
  const [row] = await db
    .update(products)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(and(eq(products.id, id), isNull(products.deletedAt), isNull(products.vendorSuspendedAt)))
    .returning();
  return row;
}

export async function softDeleteProduct(db: DbOrTx, id: string): Promise<ProductRow | undefined> {
  const [row] = await db
    .update(products)
    .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(products.id, id), isNull(products.deletedAt), isNull(products.vendorSuspendedAt)))
    .returning();
  return row;
}

const createdMicros = sql<string>`(extract(epoch from ${products.createdAt}) * 1000000)::bigint::text`;

/**
 * How many live rows, in sort order, a search reads before it stops trusting the sort index
 * (see `searchSource`): 2,000 (about 0.7 ms) for a page of 20, more for bigger pages so that
 * step 2 only ever sorts words rarer than one row in 50. A search that fills its page inside
 * them never touches the GIN index.
 */
const searchHeadRows = (limit: number) => Math.max(2_000, 50 * (limit + 1));

/**
 * The rows a full-text search picks its page from, in two steps inside one statement (the
 * planner cannot be trusted to choose between them: it multiplies word frequencies, so
 * `lamp chair` on a table where every product is a lamp or a chair looks common and it walks
 * the whole sort index filtering every row, 0.1–2 s on 300k products, for no match at all).
 *
 * 1. `head_hits`: the first `searchHeadRows` rows in sort order (other filters and the cursor
 *    applied, so through the same sort index as a plain list), filtered by the text query.
 *    A common word fills its page here after a few dozen rows, and the page is exact: no
 *    later row can sort before these.
 * 2. Only if that page did not fill (a rare word, or none at all): `matches`, MATERIALIZED so
 *    it is planned on its own, match first (GIN bitmap on `products_search_idx`), then sorted.
 *    Being rare in the first rows, the matches are few, so sorting all of them is cheap.
 *
 * The trade-off: a word that is rare among the newest (cheapest, …) rows but common among the
 * rest fetches and sorts all its matches in step 2 (say 50k old ones: ~60 ms). That needs a
 * catalogue skewed against the sort order and costs what those matches cost, never a walk of
 * the whole table.
 */
function searchSource(filters: ProductFilters, outside: SQL[], match: SQL, order: SQL[]): SQL {
  const orderBy = sql.join(order, sql`, `);
  const outsideWhere = and(...outside)!;
  // The head is aliased `products`, so the column references built for the table apply to it too.
  return sql`
    WITH head_hits AS MATERIALIZED (
      SELECT * FROM (
        SELECT * FROM ${products} WHERE ${outsideWhere} ORDER BY ${orderBy} LIMIT ${sql.raw(String(searchHeadRows(filters.limit)))}
      ) AS ${products}
      WHERE ${match} ORDER BY ${orderBy} LIMIT ${filters.limit + 1}
    ), matches AS MATERIALIZED (
      SELECT * FROM ${products} WHERE ${outsideWhere} AND ${match}
    )
    SELECT * FROM head_hits WHERE (SELECT count(*) FROM head_hits) > ${filters.limit}
    UNION ALL
    SELECT * FROM matches WHERE (SELECT count(*) FROM head_hits) <= ${filters.limit}`;
}

/**
 * The list query for every filter/sort combination. Each sort walks a partial index on live
 * rows (`products_*_idx`) in index order, so a page costs `limit` index entries, never an
 * OFFSET scan; `q` reads at most `searchHeadRows` of that walk, then matches first through the
 * GIN index on the generated tsvector (`searchSource`). Exported so a test can EXPLAIN exactly
 * what runs.
 */
export function productListQuery(db: DbOrTx, filters: ProductFilters, after?: CursorPosition) {
  // A suspended store's products are hidden by their own column: no join, and the partial indexes on live rows still serve.
  const where: SQL[] = [isNull(products.deletedAt), isNull(products.vendorSuspendedAt)];
  if (filters.category) where.push(eq(products.category, filters.category));
  if (filters.vendorId) where.push(eq(products.vendorId, filters.vendorId));
  if (filters.minPrice !== undefined) where.push(gte(products.priceCents, filters.minPrice));
  if (filters.maxPrice !== undefined) where.push(lte(products.priceCents, filters.maxPrice));

  let sortKey: SQL<string>;
  let order: SQL[];
  switch (filters.sort) {
    case 'price_asc':
      sortKey = sql<string>`${products.priceCents}::text`;
      order = [asc(products.priceCents), asc(products.id)];
      if (after) where.push(sql`(${products.priceCents}, ${products.id}) > (${after.value}::bigint, ${after.id}::uuid)`);
      break;
    case 'price_desc':
      sortKey = sql<string>`${products.priceCents}::text`;
      order = [desc(products.priceCents), desc(products.id)];
      if (after) where.push(sql`(${products.priceCents}, ${products.id}) < (${after.value}::bigint, ${after.id}::uuid)`);
      break;
    default:
      sortKey = createdMicros;
      // NULLS LAST to match the index definitions exactly; plain DESC (nulls first) would make
      // the planner sort instead of walking products_newest_idx.
      order = [sql`${products.createdAt} DESC NULLS LAST`, sql`${products.id} DESC NULLS LAST`];
      if (after)
        where.push(
          sql`(${products.createdAt}, ${products.id}) < ('epoch'::timestamptz + ${after.value}::bigint * interval '1 microsecond', ${after.id}::uuid)`,
        );
  }
  const selection = { product: products, sortKey };
  if (!filters.q)
    return db
      .select(selection)
      .from(products)
      .where(and(...where))
      .orderBy(...order)
      .limit(filters.limit + 1);
  // websearch_to_tsquery accepts any text (quotes, operators, SQL) without a syntax error. As a
  // subquery its value is unknown when planning, so the planner takes the default selectivity
  // (0.5%) instead of multiplying word frequencies, and matches through the GIN index.
  const match = sql`${products.search} @@ (SELECT websearch_to_tsquery('english', ${filters.q}))`;
  // A CTE named `products` stands in for the table in the outer query: the page is sorted out of the search's rows.
  const found = db.$with('products', {}).as(searchSource(filters, where, match, order));
  return db
    .with(found)
    .select(selection)
    .from(products)
    .orderBy(...order)
    .limit(filters.limit + 1);
}

/** One page plus whether another follows (one extra row is read to know). */
export async function listProducts(
  db: DbOrTx,
  filters: ProductFilters,
  after?: CursorPosition,
): Promise<{ rows: ListedProduct[]; more: boolean }> {
  const found = await productListQuery(db, filters, after);
  const rows = found.slice(0, filters.limit).map((r) => ({ ...r.product, sortKey: r.sortKey }));
  return { rows, more: found.length > filters.limit };
}

/**
 * Which of `keys` a live product lists among its images or a store shows as its logo (the object
 * store's orphan sweep asks). Suspended stores count: reinstated, they show them again. Kept apart
 * from the list and stock queries: it is maintenance, not a storefront path.
 */
export async function findImageKeysInUse(db: DbOrTx, keys: readonly string[]): Promise<string[]> {
  if (keys.length === 0) return [];
  const rows = await db
    .select({ imageKeys: products.imageKeys })
    .from(products)
    .where(and(isNull(products.deletedAt), arrayOverlaps(products.imageKeys, [...keys])));
  const logos = await db
    .select({ logoKey: vendors.logoKey })
    .from(vendors)
    .where(inArray(vendors.logoKey, [...keys]));
  const wanted = new Set(keys);
  return [...new Set([...rows.flatMap((row) => row.imageKeys.filter((key) => wanted.has(key))), ...logos.map((l) => l.logoKey!)])];
}
