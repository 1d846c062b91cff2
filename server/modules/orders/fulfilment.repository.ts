import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { orderFulfilments, orderItems, orders } from '../../../shared/schema/orders';
import type { DbOrTx } from '../../db';
import type { ReservationRow } from '../catalogue';
import type { OrderRow } from './orders.repository';
import type { OrderStatus } from './order-state';

export type FulfilmentRow = typeof orderFulfilments.$inferSelect;
type FulfilmentStatus = FulfilmentRow['status'];

/** The statuses of an order being fulfilled: a store may work on it, and its parts are shown. */
export const SOLD_STATUSES = ['paid', 'processing', 'shipped', 'delivered'] as const satisfies readonly OrderStatus[];

export async function findFulfilments(db: DbOrTx, orderIds: readonly string[]): Promise<FulfilmentRow[]> {
  if (orderIds.length === 0) return [];
  return db
    .select()
    .from(orderFulfilments)
    .where(inArray(orderFulfilments.orderId, [...orderIds]));
}

/** Records a store's step on an order (the caller holds the order's row lock). */
export async function saveFulfilment(
  tx: DbOrTx,
  part: Pick<FulfilmentRow, 'orderId' | 'vendorId' | 'status'> & Partial<Pick<FulfilmentRow, 'carrier' | 'trackingNumber'>>,
): Promise<FulfilmentRow> {
  const stamps = {
    ...(part.status === 'shipped' ? { carrier: part.carrier, trackingNumber: part.trackingNumber, shippedAt: sql`now()` } : {}),
    ...(part.status === 'delivered' ? { deliveredAt: sql`now()` } : {}),
  };
  const [row] = await tx
    .insert(orderFulfilments)
    .values({ orderId: part.orderId, vendorId: part.vendorId, status: part.status, ...stamps })
    .onConflictDoUpdate({
      target: [orderFulfilments.orderId, orderFulfilments.vendorId],
      set: { status: part.status, updatedAt: sql`now()`, ...stamps },
    })
    .returning();
  return row!;
}

export interface VendorOrderRow {
  order: OrderRow;
  fulfilment: FulfilmentRow | null;
}

/** Keyset: strictly after the order `cursor` names, in (created_at, id) descending order. */
const after = (cursor: string | undefined): SQL | undefined =>
  cursor ? sql`(${orders.createdAt}, ${orders.id}) < (SELECT created_at, id FROM orders WHERE id = ${cursor}::uuid)` : undefined;

/**
 * The orders holding lines of `vendorId`, newest first, with the store's own part. `part`
 * filters on the store's fulfilment status (no row: `paid`) among orders being fulfilled;
 * `orderStatus` on the order's own status.
 */
export async function listVendorOrders(
  db: DbOrTx,
  vendorId: string,
  query: { visible: readonly OrderStatus[]; part?: FulfilmentStatus; limit: number; cursor?: string },
): Promise<VendorOrderRow[]> {
  return db
    .select({ order: orders, fulfilment: orderFulfilments })
    .from(orders)
    .leftJoin(orderFulfilments, and(eq(orderFulfilments.orderId, orders.id), eq(orderFulfilments.vendorId, vendorId)))
    .where(
      and(
        inArray(orders.id, db.select({ id: orderItems.orderId }).from(orderItems).where(eq(orderItems.vendorId, vendorId))),
        inArray(orders.status, [...query.visible]),
        query.part ? sql`coalesce(${orderFulfilments.status}, 'paid') = ${query.part}` : undefined,
        after(query.cursor),
      ),
    )
    .orderBy(desc(orders.createdAt), desc(orders.id))
    .limit(query.limit);
}

/** Every order, or those in `status`, newest first (orders_status_newest_idx). */
export async function listOrdersNewestFirst(
  db: DbOrTx,
  query: { status?: OrderStatus; limit: number; cursor?: string },
): Promise<OrderRow[]> {
  return db
    .select()
    .from(orders)
    .where(and(query.status ? eq(orders.status, query.status) : undefined, after(query.cursor)))
    .orderBy(desc(orders.createdAt), desc(orders.id))
    .limit(query.limit);
}

/** Runs the catalogue's reservation CTEs on their own (stock taken again for an order that exists). */
export async function reserveStockRows(tx: DbOrTx, reservation: SQL): Promise<ReservationRow[]> {
  const { rows } = await tx.execute<Record<string, unknown> & ReservationRow>(
    sql`WITH ${reservation} SELECT product_id, id, vendor_id, title, price_cents, currency, available FROM reservation ORDER BY position`,
  );
  return rows;
}
