import { and, asc, eq, inArray, isNull, like, lt, or, sql } from 'drizzle-orm';
import { storedObjects } from '../../../shared/schema/objects';
import type { DbOrTx } from '../../db';

export type StoredObjectRow = typeof storedObjects.$inferSelect;

/** Bytes the user's uploads take now. */
export async function storedBytesOf(db: DbOrTx, ownerId: string): Promise<number> {
  const [row] = await db
    .select({ total: sql<string>`coalesce(sum(${storedObjects.size}), 0)` })
    .from(storedObjects)
    .where(eq(storedObjects.ownerId, ownerId));
  return Number(row?.total ?? 0);
}

/**
 * Records an upload unless it takes the owner past `quotaBytes`. Concurrent uploads of one owner
 * queue on a transaction-scoped advisory lock, so two of them cannot both fit the same free space.
 */
export async function recordWithinQuota(
  tx: DbOrTx,
  row: Pick<StoredObjectRow, 'key' | 'bucket' | 'name' | 'ownerId' | 'size'>,
  quotaBytes: number,
): Promise<boolean> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`objects-quota:${row.ownerId}`}, 0))`);
  if ((await storedBytesOf(tx, row.ownerId)) + row.size > quotaBytes) return false;
  await tx.insert(storedObjects).values(row);
  return true;
}

/**
 * Public objects stored before `cutoff` and not found referenced since then: the sweep's next
 * candidates, oldest first. Private uploads are the owner's own files (nothing attaches them to
 * anything yet, so "unreferenced" would mean "every one of them"): they are bounded by the quota,
 * never swept.
 */
export async function findSweepCandidates(db: DbOrTx, cutoff: Date, limit: number): Promise<StoredObjectRow[]> {
  return db
    .select()
    .from(storedObjects)
    .where(
      and(
        like(storedObjects.key, 'public/%'),
        lt(storedObjects.createdAt, cutoff),
        or(isNull(storedObjects.checkedAt), lt(storedObjects.checkedAt, cutoff)),
      ),
    )
    .orderBy(asc(storedObjects.createdAt))
    .limit(limit);
}

/** Marks objects found referenced, so the sweep looks at them again only after another grace period. */
export async function markChecked(db: DbOrTx, keys: readonly string[], at: Date): Promise<void> {
  if (keys.length === 0) return;
  await db
    .update(storedObjects)
    .set({ checkedAt: at })
    .where(inArray(storedObjects.key, [...keys]));
}

export async function deleteRecord(db: DbOrTx, key: string): Promise<void> {
  await db.delete(storedObjects).where(eq(storedObjects.key, key));
}
