import type { FulfilmentView } from '../../../shared/contracts';
import type { DbOrTx } from '../../db';
import { findVendorSummaries } from '../catalogue';
import { type FulfilmentRow, findFulfilments, SOLD_STATUSES } from './fulfilment.repository';
import type { OrderItemRow, OrderRow } from './orders.repository';
import type { OrderStatus } from './order-state';

export const isSold = (status: OrderStatus): status is (typeof SOLD_STATUSES)[number] =>
  (SOLD_STATUSES as readonly OrderStatus[]).includes(status);

/** A store's part as shown; no row yet means the store has not started (`paid`). */
export function toFulfilmentView(vendorId: string, storeName: string | null, row: FulfilmentRow | null | undefined): FulfilmentView {
  return {
    vendorId,
    storeName,
    status: row?.status ?? 'paid',
    carrier: row?.carrier ?? null,
    trackingNumber: row?.trackingNumber ?? null,
    shippedAt: row?.shippedAt?.toISOString() ?? null,
    deliveredAt: row?.deliveredAt?.toISOString() ?? null,
  };
}

/**
 * Each order's store parts, in the order its stores first appear among its lines: every store
 * of a sold order (paid…delivered), only the parts that had started for any other status (a
 * refunded order keeps what was shipped); none before payment. Two queries for any number of orders.
 */
export async function loadFulfilmentViews(
  db: DbOrTx,
  orders: readonly OrderRow[],
  items: readonly OrderItemRow[],
): Promise<Map<string, FulfilmentView[]>> {
  const views = new Map<string, FulfilmentView[]>();
  const rows = await findFulfilments(
    db,
    orders.filter((o) => o.status !== 'pending').map((o) => o.id),
  );
  const shown = (o: OrderRow) => isSold(o.status) || rows.some((r) => r.orderId === o.id);
  const vendorIds = new Set(items.filter((i) => orders.some((o) => o.id === i.orderId && shown(o))).map((i) => i.vendorId));
  if (vendorIds.size === 0) return views;
  const storeNames = new Map((await findVendorSummaries(db, [...vendorIds])).map((v) => [v.id, v.storeName]));
  for (const order of orders) {
    const parts = new Map(rows.filter((r) => r.orderId === order.id).map((r) => [r.vendorId, r]));
    const vendors = isSold(order.status)
      ? [...new Set(items.filter((i) => i.orderId === order.id).map((i) => i.vendorId))]
      : [...parts.keys()];
    views.set(
      order.id,
      vendors.map((v) => toFulfilmentView(v, storeNames.get(v) ?? null, parts.get(v))),
    );
  }
  return views;
}
