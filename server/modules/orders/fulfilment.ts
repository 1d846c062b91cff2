import type { FulfilmentUpdateBody, VendorOrderView } from '../../../shared/contracts';
import type { Database, UnitOfWork } from '../../db';
import { conflict, forbidden, notFound } from '../../lib/errors';
import { findUserContacts } from '../auth';
import { findVendorIdOfUser, findVendorSummaries } from '../catalogue';
import { fulfilmentUpdateEmail, type OutgoingEmail } from '../email';
import { type FulfilmentRow, findFulfilments, listVendorOrders, SOLD_STATUSES, saveFulfilment } from './fulfilment.repository';
import { isSold, toFulfilmentView } from './fulfilment-views';
import { findItems, findItemsOfOrders, lockOrder, type OrderItemRow, type OrderRow, setOrderStatus } from './orders.repository';
import { leastAdvanced, nextStatus, type OrderEvent, type OrderStatus } from './order-state';
import type { Notify } from './orders.service';

export interface FulfilmentDeps {
  database: Database;
  enqueueEmail(unit: UnitOfWork, mail: OutgoingEmail): Promise<void>;
  notify?: Notify;
}

/** The event that moves a store's part to each requested status (order-state.ts validates it). */
const stepEvent: Record<FulfilmentUpdateBody['status'], OrderEvent> = {
  processing: 'start_processing',
  shipped: 'ship',
  delivered: 'deliver',
};

async function vendorIdOf(deps: FulfilmentDeps, userId: string): Promise<string> {
  const vendorId = await findVendorIdOfUser(deps.database.db, userId);
  // A vendor-role account always runs a store; without one it has no orders to see (the route's 403).
  if (!vendorId) throw forbidden('This account runs no store');
  return vendorId;
}

function toVendorOrderView(
  order: OrderRow,
  items: readonly OrderItemRow[],
  vendorId: string,
  storeName: string | null,
  fulfilment: FulfilmentRow | null | undefined,
  buyerName: string,
): VendorOrderView {
  const mine = items.filter((i) => i.orderId === order.id && i.vendorId === vendorId);
  return {
    id: order.id,
    status: order.status,
    paymentMethod: order.paymentMethod,
    buyer: { name: buyerName },
    items: mine.map((i) => ({
      productId: i.productId,
      vendorId: i.vendorId,
      title: i.title,
      quantity: i.quantity,
      unitPriceCents: i.unitPriceCents,
    })),
    subtotalCents: mine.reduce((sum, i) => sum + i.unitPriceCents * i.quantity, 0),
    currency: order.currency,
    fulfilment: toFulfilmentView(vendorId, storeName, fulfilment),
    paidAt: order.paidAt?.toISOString() ?? null,
    createdAt: order.createdAt.toISOString(),
  };
}

export interface VendorOrderQuery {
  status?: (typeof SOLD_STATUSES)[number] | 'refunded' | 'review';
  limit: number;
  cursor?: string;
}

/** The orders holding the caller's store's lines (sold, refunded or in review), newest first. */
export async function listOrdersOfVendor(
  deps: FulfilmentDeps,
  userId: string,
  query: VendorOrderQuery,
): Promise<{ items: VendorOrderView[]; nextCursor: string | null }> {
  const { db } = deps.database;
  const vendorId = await vendorIdOf(deps, userId);
  const filter = query.status;
  const byPart = filter !== undefined && filter !== 'refunded' && filter !== 'review';
  const visible: OrderStatus[] = byPart ? [...SOLD_STATUSES] : filter ? [filter] : [...SOLD_STATUSES, 'refunded', 'review'];
  const rows = await listVendorOrders(db, vendorId, {
    visible,
    part: byPart ? filter : undefined,
    limit: query.limit + 1,
    cursor: query.cursor,
  });
  const page = rows.slice(0, query.limit);
  const items = await findItemsOfOrders(
    db,
    page.map((r) => r.order.id),
  );
  const buyers = new Map((await findUserContacts(db, [...new Set(page.map((r) => r.order.buyerId))])).map((c) => [c.id, c.name]));
  const [store] = await findVendorSummaries(db, [vendorId]);
  return {
    items: page.map((r) =>
      toVendorOrderView(r.order, items, vendorId, store?.storeName ?? null, r.fulfilment, buyers.get(r.order.buyerId) ?? ''),
    ),
    nextCursor: rows.length > query.limit ? page[page.length - 1]!.order.id : null,
  };
}

/**
 * Moves the caller's store's part of an order one step (paid → processing → shipped →
 * delivered) and the order to the least advanced of its stores' parts, in one unit of work under
 * the order's row lock (two stores moving the same order at once are serialised, neither step
 * lost). The buyer is mailed and pushed once it commits.
 */
export async function advanceFulfilment(
  deps: FulfilmentDeps,
  userId: string,
  orderId: string,
  step: FulfilmentUpdateBody,
): Promise<VendorOrderView> {
  const vendorId = await vendorIdOf(deps, userId);
  return deps.database.transaction(async (unit) => {
    const { tx } = unit;
    const order = await lockOrder(tx, orderId);
    const items = order ? await findItems(tx, orderId) : [];
    // Not one of the store's orders: the same 404 as no order at all.
    if (!order || !items.some((i) => i.vendorId === vendorId)) throw notFound('Order');
    if (!isSold(order.status))
      throw conflict('order_not_fulfillable', `A ${order.status} order cannot be fulfilled`, { status: order.status });
    const parts = await findFulfilments(tx, [orderId]);
    const current = parts.find((p) => p.vendorId === vendorId)?.status ?? 'paid';
    if (nextStatus(current, stepEvent[step.status]) !== step.status)
      throw conflict('invalid_transition', `This store's part is ${current}; it cannot become ${step.status}`, {
        current,
        requested: step.status,
      });
    const saved = await saveFulfilment(tx, {
      orderId,
      vendorId,
      status: step.status,
      carrier: step.carrier,
      trackingNumber: step.trackingNumber,
    });
    const statusOf = new Map(parts.map((p) => [p.vendorId, p.status as OrderStatus]));
    statusOf.set(vendorId, saved.status);
    // A store without a row has not started: it counts as paid.
    const orderStatus = leastAdvanced([...new Set(items.map((i) => i.vendorId))].map((v) => statusOf.get(v) ?? 'paid'));
    await setOrderStatus(tx, orderId, orderStatus);

    const [store] = await findVendorSummaries(tx, [vendorId]);
    const storeName = store?.storeName ?? 'a store';
    const [buyer] = await findUserContacts(tx, [order.buyerId]);
    if (buyer)
      await deps.enqueueEmail(
        unit,
        fulfilmentUpdateEmail(
          { orderId, vendorId, storeName, status: step.status, carrier: saved.carrier, trackingNumber: saved.trackingNumber },
          buyer,
        ),
      );
    await deps.notify?.(unit, {
      userId: order.buyerId,
      type: 'order.fulfilment',
      payload: {
        orderId,
        vendorId,
        storeName,
        status: saved.status,
        orderStatus,
        carrier: saved.carrier,
        trackingNumber: saved.trackingNumber,
      },
    });
    return toVendorOrderView({ ...order, status: orderStatus }, items, vendorId, store?.storeName ?? null, saved, buyer?.name ?? '');
  });
}
