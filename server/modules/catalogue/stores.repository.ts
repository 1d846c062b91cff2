import { and, asc, eq, getTableColumns, isNull, type SQL, sql } from 'drizzle-orm';
import { vendors } from '../../../shared/schema/catalogue';
import type { DbOrTx } from '../../db';
import type { VendorRow } from './catalogue.repository';

/*
 * Stores as others see and change them: the public page and list, the vendor's own store, and
 * its standing (suspension). Opening a store and the store lookups orders uses stay with the
 * catalogue's repository.
 */

export type VendorWithCount = VendorRow & { productCount: number };

// Spelled out: inside a subquery Drizzle leaves columns unqualified, and "id" would bind to products.
// Not removed is enough: a store's products are suspended with it, and only its own vendor sees a suspended store.
const productCount = sql<number>`(SELECT count(*)::int FROM products p WHERE p.vendor_id = vendors.id AND p.deleted_at IS NULL)`;
const vendorWithCount = { ...getTableColumns(vendors), productCount };

/** A store anyone may see (not suspended), with its product count. */
export async function findListedVendor(db: DbOrTx, id: string): Promise<VendorWithCount | undefined> {
  const [row] = await db
    .select(vendorWithCount)
    .from(vendors)
    .where(and(eq(vendors.id, id), isNull(vendors.suspendedAt)));
  return row;
}

/** A store whatever its standing, with its product count; `lock` holds it until the transaction ends (suspension). */
export async function findVendorWithCount(
  db: DbOrTx,
  by: { id: string } | { userId: string },
  lock = false,
): Promise<VendorWithCount | undefined> {
  const query = db
    .select(vendorWithCount)
    .from(vendors)
    .where('id' in by ? eq(vendors.id, by.id) : eq(vendors.userId, by.userId));
  const [row] = lock ? await query.for('update', { of: vendors }) : await query;
  return row;
}

/**
 * Holds the store's row against a suspension until the caller's transaction ends, and says
 * whether it is suspended (undefined: no such store). A product written under this lock cannot
 * slip past a concurrent suspension: that waits for us, then suspends what we wrote.
 */
export async function lockVendorForWrite(tx: DbOrTx, id: string): Promise<{ suspendedAt: Date | null } | undefined> {
  const [row] = await tx.select({ suspendedAt: vendors.suspendedAt }).from(vendors).where(eq(vendors.id, id)).for('share');
  return row;
}

/** Changes the store of `userId` unless it is suspended (then, or without a store: undefined). */
export async function updateVendorOfUser(
  db: DbOrTx,
  userId: string,
  changes: { storeName?: string; description?: string; logoKey?: string | null },
): Promise<VendorWithCount | undefined> {
  const [row] = await db
    .update(vendors)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(and(eq(vendors.userId, userId), isNull(vendors.suspendedAt)))
    .returning(vendorWithCount);
  return row;
}

/**
 * Suspends (`at`) or reinstates (null) a store and every product of it, in one statement. The
 * caller holds the store's row (findVendorWithCount with `lock`) since before this statement's
 * snapshot, so products written under lockVendorForWrite have committed and are seen here. The
 * products are locked in id order, as checkout and releases take them, so none of them deadlock.
 */
export async function setVendorSuspension(tx: DbOrTx, id: string, at: Date | null): Promise<void> {
  await tx.execute(sql`
    WITH v AS (
      UPDATE vendors SET suspended_at = ${at}, updated_at = now() WHERE id = ${id}
    ), locked AS (
      SELECT p.id FROM products p WHERE p.vendor_id = ${id} ORDER BY p.id FOR UPDATE
    )
    UPDATE products p SET vendor_suspended_at = ${at} FROM locked WHERE p.id = locked.id`);
}

export interface VendorListFilters {
  /** Lower case, trimmed. */
  q?: string;
  limit: number;
}

/** Keyset position in the vendor list: the last store's lower-cased name and its id. */
export interface VendorCursorPosition {
  name: string;
  id: string;
}

const sortName = sql<string>`lower(${vendors.storeName})`;

/**
 * One page of the stores anyone may see, by name (case-insensitive, then id), each with its
 * product count; `q` is a substring of the name, its LIKE wildcards taken literally. One extra
 * row is read to know whether another page follows.
 */
export async function listVendors(
  db: DbOrTx,
  filters: VendorListFilters,
  after?: VendorCursorPosition,
): Promise<{ rows: Array<VendorWithCount & { sortKey: string }>; more: boolean }> {
  const where: SQL[] = [isNull(vendors.suspendedAt)];
  if (filters.q) where.push(sql`${vendors.storeName} ILIKE ${`%${filters.q.replace(/[\\%_]/g, '\\$&')}%`}`);
  if (after) where.push(sql`(${sortName}, ${vendors.id}) > (${after.name}, ${after.id}::uuid)`);
  const found = await db
    .select({ ...vendorWithCount, sortKey: sortName })
    .from(vendors)
    .where(and(...where))
    .orderBy(sortName, asc(vendors.id))
    .limit(filters.limit + 1);
  return { rows: found.slice(0, filters.limit), more: found.length > filters.limit };
}
