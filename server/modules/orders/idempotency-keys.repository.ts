import { and, eq, gte, lt, sql } from 'drizzle-orm';
import { orderIdempotencyKeys } from '../../../shared/schema/orders';
import type { DbOrTx } from '../../db';

export interface StoredReply {
  requestHash: string;
  responseStatus: number;
  /** JSON text. */
  responseBody: string;
}

/** The reply stored under the buyer's key, if it was stored at or after `notBefore` (older keys have expired). */
export async function findStoredReply(db: DbOrTx, userId: string, key: string, notBefore: Date): Promise<StoredReply | undefined> {
  const [row] = await db
    .select({
      requestHash: orderIdempotencyKeys.requestHash,
      responseStatus: orderIdempotencyKeys.responseStatus,
      responseBody: orderIdempotencyKeys.responseBody,
    })
    .from(orderIdempotencyKeys)
    .where(and(eq(orderIdempotencyKeys.userId, userId), eq(orderIdempotencyKeys.key, key), gte(orderIdempotencyKeys.createdAt, notBefore)));
  return row;
}

/**
 * Stores the reply under the buyer's key, in the caller's transaction. An expired row of the same
 * key not yet swept is replaced; a live one is never overwritten (placements of one buyer run
 * under one lock, and each looks the key up first, so there is none).
 */
export async function storeReply(
  tx: DbOrTx,
  row: StoredReply & { userId: string; key: string; orderId: string; createdAt: Date; expiredBefore: Date },
): Promise<void> {
  const { expiredBefore, ...values } = row;
  await tx
    .insert(orderIdempotencyKeys)
    .values(values)
    .onConflictDoUpdate({
      target: [orderIdempotencyKeys.userId, orderIdempotencyKeys.key],
      set: {
        requestHash: sql`excluded.request_hash`,
        orderId: sql`excluded.order_id`,
        responseStatus: sql`excluded.response_status`,
        responseBody: sql`excluded.response_body`,
        createdAt: sql`excluded.created_at`,
      },
      setWhere: lt(orderIdempotencyKeys.createdAt, expiredBefore),
    });
}

/** Deletes the keys stored before `cutoff`; returns how many. */
export async function deleteKeysBefore(db: DbOrTx, cutoff: Date): Promise<number> {
  const deleted = await db
    .delete(orderIdempotencyKeys)
    .where(lt(orderIdempotencyKeys.createdAt, cutoff))
    .returning({ key: orderIdempotencyKeys.key });
  return deleted.length;
}
