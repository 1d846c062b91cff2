import type { CryptoQuoteView, OrderView, PlaceOrderBody } from '../../../shared/contracts';
import type { Db, DbOrTx } from '../../db';
import type { Clock } from '../../lib/clock';
import { AppError, badRequest, conflict, notFound, serviceUnavailable } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import {
  cancelPendingOrder,
  expireOverdueOrders,
  findItems,
  findItemsOfOrders,
  findLiveProductStock,
  findOrder,
  findOrderVisibleTo,
  insertOrder,
  insertOrderItems,
  listOrdersOfBuyer,
  type OrderItemRow,
  type OrderRow,
  releaseStock,
  reserveStock,
  type ReservedProduct,
} from './orders.repository';

export interface CryptoQuote {
  symbol: string;
  amount: string;
  rate: number;
  tier: string;
  source: string;
  expiresAt: string;
}

export type QuoteCrypto = (request: { amountCents: number; currency: string; symbol: string }) => Promise<CryptoQuote>;

/** Persists a notification (and pushes it once committed) inside the caller's transaction. */
export type Notify = (tx: DbOrTx, notification: { userId: string; type: string; payload: Record<string, unknown> }) => Promise<void>;

export interface OrdersDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  expiryMinutes: number;
  quoteCrypto?: QuoteCrypto;
  /** Stock changed for these products (cached catalogue answers must go). */
  onStockChanged(productIds: string[]): void;
}

export function toOrderView(order: OrderRow, items: OrderItemRow[]): OrderView {
  const crypto: CryptoQuoteView | null =
    order.cryptoSymbol && order.cryptoAmount && order.cryptoRate
      ? {
          symbol: order.cryptoSymbol,
          amount: order.cryptoAmount,
          rate: Number(order.cryptoRate),
          tier: order.cryptoRateTier ?? 'unknown',
          source: order.cryptoRateSource ?? 'unknown',
          expiresAt: order.cryptoQuoteExpiresAt?.toISOString() ?? order.expiresAt.toISOString(),
        }
      : null;
  return {
    id: order.id,
    buyerId: order.buyerId,
    status: order.status,
    paymentMethod: order.paymentMethod,
    totalCents: order.totalCents,
    currency: order.currency,
    expiresAt: order.expiresAt.toISOString(),
    paidAt: order.paidAt?.toISOString() ?? null,
    items: items.map((i) => ({ productId: i.productId, vendorId: i.vendorId, title: i.title, quantity: i.quantity, unitPriceCents: i.unitPriceCents })),
    crypto,
    createdAt: order.createdAt.toISOString(),
  };
}

/** One line per product (quantities of repeated lines added), in id order so lock order is global. */
function mergeLines(items: PlaceOrderBody['items']): Array<{ productId: string; quantity: number }> {
  const byProduct = new Map<string, number>();
  for (const item of items) byProduct.set(item.productId, (byProduct.get(item.productId) ?? 0) + item.quantity);
  return [...byProduct.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([productId, quantity]) => ({ productId, quantity }));
}

/**
 * Places an order: every line's stock is reserved, the order and its lines written, all in one
 * transaction. Any line short of stock rolls the whole order back (all-or-nothing), and
 * reserving in product-id order keeps two multi-line checkouts from deadlocking.
 */
export async function placeOrder(deps: OrdersDeps, buyerId: string, body: PlaceOrderBody): Promise<OrderView> {
  if (body.paymentMethod === 'crypto' && !deps.quoteCrypto) {
    throw serviceUnavailable('crypto_payments_unavailable', 'Crypto payments are not available');
  }
  const lines = mergeLines(body.items);
  const { order, items } = await deps.db.transaction(async (tx) => {
    const reserved: Array<ReservedProduct & { quantity: number }> = [];
    for (const line of lines) {
      const product = await reserveStock(tx, line.productId, line.quantity);
      if (!product) {
        const available = await findLiveProductStock(tx, line.productId);
        if (available === undefined) throw new AppError(404, 'product_not_found', `Product ${line.productId} does not exist`, { productId: line.productId });
        throw conflict('insufficient_stock', `Only ${available} left of product ${line.productId}`, {
          productId: line.productId,
          requested: line.quantity,
          available,
        });
      }
      reserved.push({ ...product, quantity: line.quantity });
    }
    const currencies = new Set(reserved.map((p) => p.currency));
    if (currencies.size > 1) throw badRequest('mixed_currency', 'All items of an order must be priced in one currency', { currencies: [...currencies] });
    const currency = reserved[0]!.currency;
    const totalCents = reserved.reduce((sum, p) => sum + p.priceCents * p.quantity, 0);
    if (totalCents > 2_147_483_647) throw badRequest('order_too_large', 'The order total is too large');
    const now = deps.clock.now();
    const quote = body.paymentMethod === 'crypto' ? await deps.quoteCrypto!({ amountCents: totalCents, currency, symbol: body.cryptoCurrency! }) : undefined;
    const order = await insertOrder(tx, {
      buyerId,
      paymentMethod: body.paymentMethod,
      totalCents,
      currency,
      expiresAt: new Date(now + deps.expiryMinutes * 60_000),
      ...(quote
        ? {
            cryptoSymbol: quote.symbol,
            cryptoAmount: quote.amount,
            cryptoRate: String(quote.rate),
            cryptoRateTier: quote.tier,
            cryptoRateSource: quote.source,
            cryptoQuoteExpiresAt: new Date(quote.expiresAt),
          }
        : {}),
    });
    const items = await insertOrderItems(
      tx,
      reserved.map((p) => ({ orderId: order.id, productId: p.id, vendorId: p.vendorId, title: p.title, quantity: p.quantity, unitPriceCents: p.priceCents })),
    );
    return { order, items };
  });
  deps.onStockChanged(items.map((i) => i.productId));
  return toOrderView(order, items);
}

export async function cancelOrder(deps: OrdersDeps, buyerId: string, orderId: string): Promise<OrderView> {
  const released = await deps.db.transaction(async (tx) => {
    const cancelled = await cancelPendingOrder(tx, orderId, buyerId);
    if (!cancelled) {
      const existing = await findOrder(tx, orderId);
      if (!existing || existing.buyerId !== buyerId) throw notFound('Order');
      throw conflict('order_not_cancellable', `A ${existing.status} order cannot be cancelled`);
    }
    return { order: cancelled, products: await releaseStock(tx, orderId) };
  });
  deps.onStockChanged(released.products);
  return toOrderView(released.order, await findItems(deps.db, orderId));
}

/** Expires unpaid orders past their deadline and puts their stock back; returns how many. */
export async function expireOverdue(deps: OrdersDeps, batch = 100): Promise<number> {
  let total = 0;
  for (;;) {
    const { expired, products } = await deps.db.transaction(async (tx) => {
      const expired = await expireOverdueOrders(tx, new Date(deps.clock.now()), batch);
      const products: string[] = [];
      for (const id of expired) products.push(...(await releaseStock(tx, id)));
      return { expired, products };
    });
    if (expired.length > 0) {
      deps.onStockChanged([...new Set(products)]);
      deps.logger.info(`[ORDERS] Expired ${expired.length} unpaid order(s); stock released`);
    }
    total += expired.length;
    if (expired.length < batch) return total;
  }
}

export async function viewOrder(deps: OrdersDeps, userId: string, orderId: string): Promise<OrderView> {
  const order = await findOrderVisibleTo(deps.db, orderId, userId);
  if (!order) throw notFound('Order');
  return toOrderView(order, await findItems(deps.db, orderId));
}

export async function listMyOrders(deps: OrdersDeps, buyerId: string, limit: number): Promise<OrderView[]> {
  const orders = await listOrdersOfBuyer(deps.db, buyerId, limit);
  const items = await findItemsOfOrders(
    deps.db,
    orders.map((o) => o.id),
  );
  return orders.map((o) =>
    toOrderView(
      o,
      items.filter((i) => i.orderId === o.id),
    ),
  );
}
