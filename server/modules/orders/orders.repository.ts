import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { orderItems, orders, products, stripeEvents, users, vendors } from '../../../shared/schema';
import type { DbOrTx } from '../../db';

export type OrderRow = typeof orders.$inferSelect;
export type OrderItemRow = typeof orderItems.$inferSelect;
export type NewOrder = typeof orders.$inferInsert;

export interface ReservedProduct {
  id: string;
  vendorId: string;
  title: string;
  priceCents: number;
  currency: string;
}

/**
 * Takes `quantity` units in one conditional UPDATE: the row lock it takes serialises
 * concurrent buyers, and `stock >= quantity` is re-checked on the locked row, so stock can
 * never go below zero however many checkouts race. Undefined when there is not enough.
 */
export async function reserveStock(tx: DbOrTx, productId: string, quantity: number): Promise<ReservedProduct | undefined> {
  const [row] = await tx
    .update(products)
    .set({ stock: sql`${products.stock} - ${quantity}`, updatedAt: sql`now()` })
    .where(and(eq(products.id, productId), sql`${products.deletedAt} IS NULL`, sql`${products.stock} >= ${quantity}`))
    .returning({ id: products.id, vendorId: products.vendorId, title: products.title, priceCents: products.priceCents, currency: products.currency });
  return row;
}

export async function findLiveProductStock(tx: DbOrTx, productId: string): Promise<number | undefined> {
  const [row] = await tx
    .select({ stock: products.stock })
    .from(products)
    .where(and(eq(products.id, productId), sql`${products.deletedAt} IS NULL`));
  return row?.stock;
}

/** Puts an order's units back on the shelf (cancel, expiry). */
export async function releaseStock(tx: DbOrTx, orderId: string): Promise<string[]> {
  const { rows } = await tx.execute<{ id: string }>(sql`
    UPDATE products p SET stock = p.stock + oi.quantity, updated_at = now()
    FROM order_items oi WHERE oi.order_id = ${orderId} AND p.id = oi.product_id
    RETURNING p.id`);
  return rows.map((r) => r.id);
}

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

export async function findItemsOfOrders(db: DbOrTx, orderIds: string[]): Promise<OrderItemRow[]> {
  if (orderIds.length === 0) return [];
  return db.select().from(orderItems).where(inArray(orderItems.orderId, orderIds));
}

export async function findOrder(db: DbOrTx, id: string): Promise<OrderRow | undefined> {
  const [row] = await db.select().from(orders).where(eq(orders.id, id));
  return row;
}

export async function lockOrder(tx: DbOrTx, id: string): Promise<OrderRow | undefined> {
  const [row] = await tx.select().from(orders).where(eq(orders.id, id)).for('update');
  return row;
}

export async function lockOrderByPaymentIntent(tx: DbOrTx, paymentIntentId: string): Promise<OrderRow | undefined> {
  const [row] = await tx.select().from(orders).where(eq(orders.stripePaymentIntentId, paymentIntentId)).for('update');
  return row;
}

/** The order if `userId` bought it or sells one of its items; nobody else learns it exists. */
export async function findOrderVisibleTo(db: DbOrTx, orderId: string, userId: string): Promise<OrderRow | undefined> {
  const [row] = await db
    .select()
    .from(orders)
    .where(
      and(
        eq(orders.id, orderId),
        sql`(${orders.buyerId} = ${userId} OR EXISTS (
          SELECT 1 FROM order_items oi JOIN vendors v ON v.id = oi.vendor_id
          WHERE oi.order_id = ${orders.id} AND v.user_id = ${userId}))`,
      ),
    );
  return row;
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

export async function cancelPendingOrder(tx: DbOrTx, id: string, buyerId: string): Promise<OrderRow | undefined> {
  const [row] = await tx
    .update(orders)
    .set({ status: 'cancelled', updatedAt: sql`now()` })
    .where(and(eq(orders.id, id), eq(orders.buyerId, buyerId), eq(orders.status, 'pending')))
    .returning();
  return row;
}

/** Marks up to `limit` overdue unpaid orders expired; SKIP LOCKED so instances sweep side by side. */
export async function expireOverdueOrders(tx: DbOrTx, now: Date, limit: number): Promise<string[]> {
  const { rows } = await tx.execute<{ id: string }>(sql`
    UPDATE orders SET status = 'expired', updated_at = now()
    WHERE id IN (
      SELECT id FROM orders WHERE status = 'pending' AND expires_at <= ${now.toISOString()}::timestamptz
      ORDER BY expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    RETURNING id`);
  return rows.map((r) => r.id);
}

export async function attachPaymentIntent(tx: DbOrTx, orderId: string, paymentIntentId: string): Promise<void> {
  await tx
    .update(orders)
    .set({ stripePaymentIntentId: paymentIntentId, updatedAt: sql`now()` })
    .where(and(eq(orders.id, orderId), sql`${orders.stripePaymentIntentId} IS NULL`));
}

/** Records a Stripe event id; false when it was already recorded (a redelivery). */
export async function recordStripeEvent(tx: DbOrTx, event: { id: string; type: string; payload: unknown }): Promise<boolean> {
  const rows = await tx.insert(stripeEvents).values(event).onConflictDoNothing({ target: stripeEvents.id }).returning({ id: stripeEvents.id });
  return rows.length > 0;
}

export async function finishStripeEvent(tx: DbOrTx, id: string, outcome: string): Promise<void> {
  await tx.update(stripeEvents).set({ processedAt: sql`now()`, outcome }).where(eq(stripeEvents.id, id));
}

export async function findUserContact(db: DbOrTx, userId: string): Promise<{ email: string; name: string } | undefined> {
  const [row] = await db.select({ email: users.email, name: users.name }).from(users).where(eq(users.id, userId));
  return row;
}

export async function findVendorContacts(db: DbOrTx, vendorIds: string[]) {
  if (vendorIds.length === 0) return [];
  return db
    .select({ id: vendors.id, userId: vendors.userId, storeName: vendors.storeName, email: users.email, name: users.name })
    .from(vendors)
    .innerJoin(users, eq(users.id, vendors.userId))
    .where(inArray(vendors.id, vendorIds));
}
