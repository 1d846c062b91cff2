import { and, desc, eq, getTableColumns, inArray, type SQL, sql } from 'drizzle-orm';
import { orderItems, orders } from '../../../shared/schema/orders';
import type { DbOrTx } from '../../db';
import type { ReservationRow } from '../catalogue';
import type { OrderStatus } from './order-state';

export type OrderRow = typeof orders.$inferSelect;
export type OrderItemRow = typeof orderItems.$inferSelect;
export type NewOrder = typeof orders.$inferInsert;

/** An order to write: its lines, prices, total and currency come from the reservation. */
export type OrderToPlace = Omit<NewOrder, 'status' | 'createdAt' | 'updatedAt' | 'totalCents' | 'currency'>;

/** What the placing statement found; `order` is undefined when nothing was written (see placeReservedOrder). */
export interface PlacementOutcome {
  /** The reservation's rows, in line order, for the catalogue to settle. */
  reservation: ReservationRow[];
  /** The buyer's open unpaid orders before this one. */
  open: number;
  /** Distinct currencies and the total (in cents, as a decimal string: it may exceed int4) of the lines taken. */
  currencies: number;
  totalCents: string;
  order: OrderRow | undefined;
  items: OrderItemRow[];
}

/**
 * Reserves the stock (the catalogue's `reservation` CTEs) and writes the order and its lines, in
 * one statement: priced from the reserved rows, written only when every line was taken, in one
 * currency, with a total that fits, matching `expect` (a crypto quote's total) when given, and
 * while the buyer holds fewer than `maxOpen` unpaid orders within their hold time (the expiry
 * sweep may not have run yet). Otherwise nothing is written but the reservation, which the
 * caller rolls back once it has read why. Race-free only under the buyer's lock taken before this
 * statement (its snapshot then holds every order the previous holder committed).
 */
export async function placeReservedOrder(
  tx: DbOrTx,
  reservation: SQL,
  order: OrderToPlace,
  rules: { maxOpen: number; now: Date; expect?: { totalCents: number; currency: string } },
): Promise<PlacementOutcome> {
  const { rows } = await tx.execute<Record<string, unknown> & PlacementColumns>(sql`
    WITH ${reservation}, open AS (
      SELECT count(*)::int AS n FROM orders
      WHERE buyer_id = ${order.buyerId} AND status = 'pending' AND expires_at > ${rules.now.toISOString()}::timestamptz
    ), priced AS (
      SELECT count(*) FILTER (WHERE id IS NULL) AS missing, count(DISTINCT currency)::int AS currencies, min(currency) AS currency,
        coalesce(sum(price_cents::bigint * quantity), 0) AS total
      FROM reservation
    ), placed AS (
      INSERT INTO orders (id, buyer_id, payment_method, total_cents, currency, expires_at, crypto_symbol, crypto_amount, crypto_rate,
        crypto_rate_tier, crypto_rate_source, crypto_quote_expires_at, crypto_invoice_id, crypto_checkout_url)
      SELECT coalesce(${order.id ?? null}::uuid, gen_random_uuid()), ${order.buyerId}, ${order.paymentMethod}, priced.total, priced.currency, ${order.expiresAt.toISOString()}::timestamptz,
        ${order.cryptoSymbol ?? null}, ${order.cryptoAmount ?? null}::numeric, ${order.cryptoRate ?? null}::numeric,
        ${order.cryptoRateTier ?? null}, ${order.cryptoRateSource ?? null}, ${order.cryptoQuoteExpiresAt?.toISOString() ?? null}::timestamptz,
        ${order.cryptoInvoiceId ?? null}, ${order.cryptoCheckoutUrl ?? null}
      FROM open, priced
      WHERE open.n < ${rules.maxOpen} AND priced.missing = 0 AND priced.currencies = 1 AND priced.total <= 2147483647
        ${rules.expect ? sql`AND priced.total = ${rules.expect.totalCents} AND priced.currency = ${rules.expect.currency}` : sql``}
      RETURNING *
    ), placed_items AS (
      INSERT INTO order_items (order_id, product_id, vendor_id, title, quantity, unit_price_cents)
      SELECT placed.id, r.product_id, r.vendor_id, r.title, r.quantity, r.price_cents
      FROM placed, reservation r
      RETURNING *
    )
    SELECT r.product_id AS r_product_id, r.id AS r_id, r.vendor_id AS r_vendor_id, r.title AS r_title,
      r.price_cents AS r_price_cents, r.currency AS r_currency, r.available AS r_available,
      open.n AS open_unpaid, priced.currencies AS line_currencies, priced.total::text AS line_total,
      placed.*, (SELECT json_agg(placed_items) FROM placed_items) AS placed_items
    FROM reservation r CROSS JOIN open CROSS JOIN priced LEFT JOIN placed ON true
    ORDER BY r.position`);
  const first = rows[0];
  const placed = first?.id != null ? (fromColumns(orders, first) as OrderRow) : undefined;
  // In the order the lines were given (one line per product).
  const position = new Map(rows.map((row, i) => [row.r_product_id, i]));
  return {
    reservation: rows.map((row) => ({
      product_id: row.r_product_id,
      id: row.r_id,
      vendor_id: row.r_vendor_id,
      title: row.r_title,
      price_cents: row.r_price_cents,
      currency: row.r_currency,
      available: row.r_available,
    })),
    open: first?.open_unpaid ?? 0,
    currencies: first?.line_currencies ?? 0,
    totalCents: first?.line_total ?? '0',
    order: placed,
    items: placed
      ? (first?.placed_items ?? [])
          .map((i) => fromColumns(orderItems, i) as OrderItemRow)
          .sort((a, b) => position.get(a.productId)! - position.get(b.productId)!)
      : [],
  };
}

interface PlacementColumns {
  r_product_id: string;
  r_id: string | null;
  r_vendor_id: string | null;
  r_title: string | null;
  r_price_cents: number | null;
  r_currency: string | null;
  r_available: number | null;
  open_unpaid: number;
  line_currencies: number;
  line_total: string;
  placed_items: OrderItemJson[] | null;
}

type OrderItemJson = Record<string, unknown>;

// A raw row (column names as in the database) as Drizzle would have returned it.
function fromColumns(table: typeof orders | typeof orderItems, row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(getTableColumns(table)).map(([key, column]) => {
      const value = row[column.name];
      return [key, value == null ? null : column.mapFromDriverValue(value)];
    }),
  );
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

export async function lockOrderByCryptoInvoice(tx: DbOrTx, invoiceId: string): Promise<OrderRow | undefined> {
  const [row] = await tx.select().from(orders).where(eq(orders.cryptoInvoiceId, invoiceId)).for('update');
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
