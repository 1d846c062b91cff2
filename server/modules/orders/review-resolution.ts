import type { AdminOrder } from '../../../shared/contracts';
import type { DbOrTx, UnitOfWork } from '../../db';
import type { Clock } from '../../lib/clock';
import { AppError, conflict, notFound } from '../../lib/errors';
import { findUserContacts } from '../auth';
import { listOrdersNewestFirst, reserveStockRows } from './fulfilment.repository';
import { loadFulfilmentViews } from './fulfilment-views';
import { findItems, findItemsOfOrders, findOrder, lockOrder, type OrderRow, setOrderStatus } from './orders.repository';
import { nextStatus, type OrderStatus, refundReleasesStock } from './order-state';
import { type AnnouncementDeps, announcePaidOrder } from './paid-order-announcement';
import { type StockKeeper, toOrderView } from './orders.service';

/** The buyer's full view of an order plus who the buyer is (shared/contracts AdminOrder). */
export type AdminOrderView = AdminOrder;

/** What a refund needs to know about the order. */
export interface RefundableOrder {
  id: string;
  status: OrderStatus;
  paymentMethod: 'card' | 'crypto';
  totalCents: number;
  refundedCents: number;
  currency: string;
  stripePaymentIntentId: string | null;
  cryptoInvoiceId: string | null;
}

export interface ReviewResolutionDeps extends AnnouncementDeps {
  clock: Clock;
  stock: StockKeeper;
}

async function adminViews(db: DbOrTx, orders: readonly OrderRow[]): Promise<AdminOrderView[]> {
  const items = await findItemsOfOrders(
    db,
    orders.map((o) => o.id),
  );
  const fulfilments = await loadFulfilmentViews(db, orders, items);
  const emails = new Map((await findUserContacts(db, [...new Set(orders.map((o) => o.buyerId))])).map((c) => [c.id, c.email]));
  return orders.map((o) => ({
    ...toOrderView(
      o,
      items.filter((i) => i.orderId === o.id),
      { as: 'buyer' },
      fulfilments.get(o.id),
    ),
    buyerEmail: emails.get(o.buyerId),
  }));
}

const adminView = async (db: DbOrTx, order: OrderRow) => (await adminViews(db, [order]))[0]!;

/** Orders for the admin console, newest first, optional status filter (e.g. 'review'), keyset cursor (the last order's id). */
export async function listOrdersForAdmin(
  db: DbOrTx,
  query: { status?: OrderStatus; limit: number; cursor?: string },
): Promise<{ orders: AdminOrderView[]; nextCursor: string | null }> {
  const rows = await listOrdersNewestFirst(db, { ...query, limit: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  return { orders: await adminViews(db, page), nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null };
}

async function lockForAdmin(unit: UnitOfWork, orderId: string, event: 'accept_review' | 'refunded', to: OrderStatus) {
  const order = await lockOrder(unit.tx, orderId);
  if (!order) throw notFound('Order');
  const next = nextStatus(order.status, event);
  // The table keeps `refunded → refunded` for redelivered webhooks; an admin refunding twice is refused.
  if (next !== to || next === order.status)
    throw conflict('invalid_transition', `A ${order.status} order cannot become ${to}`, { current: order.status, requested: to });
  return order;
}

/**
 * review → paid inside the caller's unit. An order in review holds no stock (it was released
 * when the order expired, was cancelled or failed, or when a mismatched payment put a pending
 * one in review), so its lines are taken again; a line short of stock or no longer listed → 409
 * `insufficient_stock`, rolling the caller's unit back (the admin must refund instead). Then the
 * same mails and pushes as a payment.
 */
export async function acceptReviewOrder(
  deps: ReviewResolutionDeps,
  unit: UnitOfWork,
  orderId: string,
): Promise<{ before: AdminOrderView; after: AdminOrderView }> {
  const order = await lockForAdmin(unit, orderId, 'accept_review', 'paid');
  const before = await adminView(unit.tx, order);
  const items = await findItems(unit.tx, orderId);
  const plan = deps.stock.planStockReservation(unit, items);
  try {
    plan.settle(await reserveStockRows(unit.tx, plan.ctes));
  } catch (error) {
    if (error instanceof AppError && error.code === 'product_not_found')
      throw conflict('insufficient_stock', 'A product of this order is no longer listed', error.details);
    throw error;
  }
  await setOrderStatus(unit.tx, orderId, 'paid', { paidAt: order.paidAt ?? new Date(deps.clock.now()) });
  const paid = (await findOrder(unit.tx, orderId))!;
  await announcePaidOrder(deps, unit, paid);
  return { before, after: await adminView(unit.tx, paid) };
}

/** What a refund needs to know about the order; `lock`: under its row lock (db is then the caller's transaction). undefined: no such order. */
export async function findOrderForRefund(db: DbOrTx, orderId: string, lock = false): Promise<RefundableOrder | undefined> {
  const order = lock ? await lockOrder(db, orderId) : await findOrder(db, orderId);
  if (!order) return undefined;
  const { id, status, paymentMethod, totalCents, refundedCents, currency, stripePaymentIntentId, cryptoInvoiceId } = order;
  return { id, status, paymentMethod, totalCents, refundedCents, currency, stripePaymentIntentId, cryptoInvoiceId };
}

/**
 * After the provider accepted a full refund: the order becomes `refunded` through the state
 * machine inside the caller's unit, recording `refundedCents` (never lowering what a webhook
 * recorded); unshipped stock goes back (refundReleasesStock). Not refundable from its status → 409 `invalid_transition`.
 */
export async function markOrderRefunded(
  deps: ReviewResolutionDeps,
  unit: UnitOfWork,
  orderId: string,
  refundedCents: number,
): Promise<{ before: AdminOrderView; after: AdminOrderView }> {
  const order = await lockForAdmin(unit, orderId, 'refunded', 'refunded');
  const before = await adminView(unit.tx, order);
  await setOrderStatus(unit.tx, orderId, 'refunded', { refundedCents: Math.max(order.refundedCents, refundedCents) });
  if (refundReleasesStock(order.status)) await deps.stock.releaseStock(unit, await findItems(unit.tx, orderId));
  await deps.notify?.(unit, { userId: order.buyerId, type: 'order.refunded', payload: { orderId } });
  const refunded = (await findOrder(unit.tx, orderId))!;
  return { before, after: await adminView(unit.tx, refunded) };
}
