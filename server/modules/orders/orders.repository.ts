import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { orderItems, orders } from '../../../shared/schema/orders';
import type { DbOrTx } from '../../db';
import type { OrderStatus } from './order-state';

export type OrderRow = typeof orders.$inferSelect;
export type OrderItemRow = typeof orderItems.$inferSelect;
export type NewOrder = typeof orders.$inferInsert;

export async function insertOrder(tx: DbOrTx, values: NewOrder): Promise<OrderRow> {
  const [row] = await tx.insert(orders).values(values).returning();
  return row!;
}

export async function insertOrderItems(tx: DbOrTx, items: Array<typeof orderItems.$inferInsert>): Promise<OrderItemRow[]> {
  return tx.insert(orderItems).values(items).returning();
}

export async function findItems(db: DbOrTx, orderId: string): Promise<OrderItemRow[]> {
  return db.select().from(orderItems).where(eq(orderItems.orderId, orderId));
}

export async function findItemsOfOrders(db: DbOrTx, orderIds: readonly string[]): Promise<OrderItemRow[]> {
  if (orderIds.length === 0) return [];
  return db
    .select()
    .from(orderItems)
    .where(inArray(orderItems.orderId, [...orderIds]));
}

export async function findOrder(db: DbOrTx, id: string): Promise<OrderRow | undefined> {
  const [row] = await db.select().from(orders).where(eq(orders.id, id));
  return row;
}

export async function lockOrder(tx: DbOrTx, id: string): Promise<OrderRow | undefined> {
  const [row] = await tx.select().from(orders).where(eq(orders.id, id)).for('update');
  return row;
}

export async function lockOrderByPaymentReference(tx: DbOrTx, reference: string): Promise<OrderRow | undefined> {
  const [row] = await tx.select().from(orders).where(eq(orders.stripePaymentIntentId, reference)).for('update');
  return row;
}

/**
 * The order if `userId` bought it or (given the store they run) sells one of its items; nobody
 * else learns it exists.
 */
export async function findOrderVisibleTo(
  db: DbOrTx,
  orderId: string,
  userId: string,
  vendorId: string | undefined,
): Promise<OrderRow | undefined> {
  const [row] = await db
    .select()
    .from(orders)
    .where(
      and(
        eq(orders.id, orderId),
        vendorId
          ? sql`(${orders.buyerId} = ${userId} OR EXISTS (
              SELECT 1 FROM order_items oi WHERE oi.order_id = ${orders.id} AND oi.vendor_id = ${vendorId}))`
          : eq(orders.buyerId, userId),
      ),
    );
  return row;
}

/**
 * Serialises order placement per buyer until the transaction ends, so two concurrent orders
 * cannot both see room under the open-order cap. Keyed by a hash of the buyer id; nothing else
 * takes this lock.
 */
export async function lockBuyerOrders(tx: DbOrTx, buyerId: string): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`orders:buyer:${buyerId}`}, 0))`);
}

/** The buyer's unpaid orders still within their hold time (the expiry sweep may not have run yet). */
export async function countOpenUnpaidOrders(db: DbOrTx, buyerId: string, now: Date): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(orders)
    .where(and(eq(orders.buyerId, buyerId), eq(orders.status, 'pending'), sql`${orders.expiresAt} > ${now.toISOString()}::timestamptz`));
  return row?.n ?? 0;
}

export async function listOrdersOfBuyer(db: DbOrTx, buyerId: string, limit: number): Promise<OrderRow[]> {
  return db.select().from(orders).where(eq(orders.buyerId, buyerId)).orderBy(desc(orders.createdAt), desc(orders.id)).limit(limit);
}

export async function setOrderStatus(tx: DbOrTx, id: string, status: OrderRow['status'], extra: Partial<NewOrder> = {}): Promise<void> {
  await tx
    .update(orders)
    .set({ status, updatedAt: sql`now()`, ...extra })
    .where(eq(orders.id, id));
}

/*
 * The statuses come from the transition table (order-state.ts), never from a request; they are
 * written as literals so the planner can match the partial index on pending orders.
 */
const statusLiterals = (statuses: readonly OrderStatus[]) => sql.raw(statuses.map((s) => `'${s.replace(/'/g, "''")}'`).join(', '));

/** Moves the buyer's order to `to` if its status is one of `from`; undefined when it is not. */
export async function transitionOwnOrder(
  tx: DbOrTx,
  id: string,
  buyerId: string,
  from: readonly OrderStatus[],
  to: OrderStatus,
): Promise<OrderRow | undefined> {
  if (from.length === 0) return undefined;
  const [row] = await tx
    .update(orders)
    .set({ status: to, updatedAt: sql`now()` })
    .where(and(eq(orders.id, id), eq(orders.buyerId, buyerId), sql`${orders.status} IN (${statusLiterals(from)})`))
    .returning();
  return row;
}

/** Moves up to `limit` overdue orders in one of `from` to `to`; SKIP LOCKED so instances sweep side by side. */
export async function expireOverdueOrders(
  tx: DbOrTx,
  now: Date,
  limit: number,
  from: readonly OrderStatus[],
  to: OrderStatus,
): Promise<string[]> {
  if (from.length === 0) return [];
  const { rows } = await tx.execute<{ id: string }>(sql`
    UPDATE orders SET status = ${to}, updated_at = now()
    WHERE id IN (
      SELECT id FROM orders WHERE status IN (${statusLiterals(from)}) AND expires_at <= ${now.toISOString()}::timestamptz
      ORDER BY expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    RETURNING id`);
  return rows.map((r) => r.id);
}

export async function attachPaymentReference(tx: DbOrTx, orderId: string, reference: string): Promise<void> {
  await tx
    .update(orders)
    .set({ stripePaymentIntentId: reference, updatedAt: sql`now()` })
    .where(and(eq(orders.id, orderId), sql`${orders.stripePaymentIntentId} IS NULL`));
}
