import type { CryptoQuoteView, FulfilmentView, OrderView, PlaceOrderBody } from '../../../shared/contracts';
import type { Database, UnitOfWork } from '../../db';
import type { Clock } from '../../lib/clock';
import { AppError, badRequest, conflict, notFound, serviceUnavailable } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { findProductPrices, findVendorIdOfUser, type StockLine, type StockReservationPlan } from '../catalogue';
import { buyerOrdersLock, checkOpenUnpaid, checkQuantities, type OrderLimits, tooManyOpenOrders } from './order-limits';
import {
  expireOverdueOrders,
  findItems,
  findItemsOfOrders,
  findOrder,
  findOrderVisibleTo,
  placeReservedOrder,
  listOrdersOfBuyer,
  type OrderItemRow,
  type OrderRow,
  transitionOwnOrder,
} from './orders.repository';
import { type IdempotentReply, type IdempotentRequest, rememberReply, storedReplyFor } from './order-idempotency';
import { statusesLeadingTo } from './order-state';
import { loadFulfilmentViews } from './fulfilment-views';
import { type CryptoInvoices, type InvoicedQuote, openCryptoInvoice, voidInvoiceUnlessPlaced } from './crypto-invoice';

export type CryptoQuote = InvoicedQuote;

export type QuoteCrypto = (request: { amountCents: number; currency: string; symbol: string }) => Promise<CryptoQuote>;

/** Persists a notification inside the caller's unit of work; it is pushed once that commits. */
export type Notify = (unit: UnitOfWork, notification: { userId: string; type: string; payload: Record<string, unknown> }) => Promise<void>;

/** What orders asks of the catalogue, which owns stock. */
export interface StockKeeper {
  planStockReservation(unit: UnitOfWork, lines: readonly StockLine[]): StockReservationPlan;
  releaseStock(unit: UnitOfWork, lines: readonly StockLine[]): Promise<void>;
}

export interface OrdersDeps {
  database: Database;
  clock: Clock;
  logger: Logger;
  limits: OrderLimits;
  stock: StockKeeper;
  quoteCrypto?: QuoteCrypto;
  /** The crypto payment processor (BTCPay Server); without it no crypto order is taken. */
  cryptoInvoices?: CryptoInvoices;
  /** False with STRIPE_ENABLED=false: a card order could never be paid, so none is taken. */
  cardPaymentsEnabled: boolean;
}

/** Who is looking at an order: its buyer sees all of it, a vendor only their own lines. */
export type OrderViewer = { as: 'buyer' } | { as: 'vendor'; vendorId: string };

export function toOrderView(
  order: OrderRow,
  allItems: OrderItemRow[],
  viewer: OrderViewer = { as: 'buyer' },
  fulfilments: readonly FulfilmentView[] = [],
): OrderView {
  /*
   * A vendor of a shared order sees their own lines and what those come to, nothing about the
   * other stores' lines nor the grand total (the crypto quote would give that away too).
   */
  const items = viewer.as === 'vendor' ? allItems.filter((i) => i.vendorId === viewer.vendorId) : allItems;
  const crypto: CryptoQuoteView | null =
    viewer.as === 'buyer' && order.cryptoSymbol && order.cryptoAmount && order.cryptoRate
      ? {
          symbol: order.cryptoSymbol,
          amount: order.cryptoAmount,
          rate: Number(order.cryptoRate),
          tier: order.cryptoRateTier ?? 'unknown',
          source: order.cryptoRateSource ?? 'unknown',
          expiresAt: order.cryptoQuoteExpiresAt?.toISOString() ?? order.expiresAt.toISOString(),
          invoiceId: order.cryptoInvoiceId,
          checkoutUrl: order.cryptoCheckoutUrl,
        }
      : null;
  return {
    id: order.id,
    buyerId: order.buyerId,
    status: order.status,
    paymentMethod: order.paymentMethod,
    view: viewer.as,
    totalCents: viewer.as === 'buyer' ? order.totalCents : items.reduce((sum, i) => sum + i.unitPriceCents * i.quantity, 0),
    currency: order.currency,
    expiresAt: order.expiresAt.toISOString(),
    paidAt: order.paidAt?.toISOString() ?? null,
    items: items.map((i) => ({
      productId: i.productId,
      vendorId: i.vendorId,
      title: i.title,
      quantity: i.quantity,
      unitPriceCents: i.unitPriceCents,
    })),
    crypto,
    fulfilments: viewer.as === 'vendor' ? fulfilments.filter((f) => f.vendorId === viewer.vendorId) : [...fulfilments],
    createdAt: order.createdAt.toISOString(),
  };
}

/** The currency and total of the lines at these prices: 400 when they mix currencies or overflow. */
function priceLines(lines: ReadonlyArray<{ priceCents: number; currency: string; quantity: number }>): {
  currency: string;
  totalCents: number;
} {
  const currencies = new Set(lines.map((p) => p.currency));
  if (currencies.size > 1)
    throw badRequest('mixed_currency', 'All items of an order must be priced in one currency', { currencies: [...currencies] });
  const totalCents = lines.reduce((sum, p) => sum + p.priceCents * p.quantity, 0);
  if (totalCents > 2_147_483_647) throw badRequest('order_too_large', 'The order total is too large');
  return { currency: lines[0]!.currency, totalCents };
}

/**
 * A crypto order is quoted before its transaction starts: the quote may wait on a rates
 * provider, and no stock row may stay locked while it does. The order is priced from the
 * catalogue's current prices (unlocked) and the quote is for that total.
 */
async function quoteBeforeReserving(
  deps: OrdersDeps,
  body: PlaceOrderBody,
): Promise<{ priced: { currency: string; totalCents: number }; quote: CryptoQuote }> {
  const prices = new Map(
    (await findProductPrices(deps.database.db, [...new Set(body.items.map((i) => i.productId))])).map((p) => [p.productId, p]),
  );
  const lines = body.items.map((item) => {
    const price = prices.get(item.productId);
    if (!price) throw new AppError(404, 'product_not_found', `Product ${item.productId} does not exist`, { productId: item.productId });
    return { ...price, quantity: item.quantity };
  });
  const priced = priceLines(lines);
  const quote = await deps.quoteCrypto!({ amountCents: priced.totalCents, currency: priced.currency, symbol: body.cryptoCurrency! });
  return { priced, quote };
}

/** A placed order's answer, or (`replayed`) the answer stored under the request's Idempotency-Key. */
export type PlacedOrder = { status: 201; body: { order: OrderView }; replayed: false } | (IdempotentReply & { replayed: true });

/**
 * Places an order: the catalogue reserves every line's stock and the order and its lines are
 * written, all in one unit of work. A line short of stock rolls the whole order back. Nothing in
 * that unit of work waits on the network (a crypto quote is fetched before it).
 */
export async function placeOrder(
  deps: OrdersDeps,
  buyerId: string,
  body: PlaceOrderBody,
  idempotency?: IdempotentRequest,
): Promise<PlacedOrder> {
  if (body.paymentMethod === 'card' && !deps.cardPaymentsEnabled) {
    throw serviceUnavailable('card_payments_unavailable', 'Card payments are turned off on this server; pay in crypto');
  }
  // A retry with a known key is answered before anything else is checked or quoted (no second
  // quote; the cap on unpaid orders must not refuse the buyer their own order). Checked again under the lock below.
  const seen = idempotency && (await storedReplyFor(deps.database.db, buyerId, idempotency, deps.clock.now()));
  if (seen) return { ...seen, replayed: true };
  if (body.paymentMethod === 'crypto' && (!deps.quoteCrypto || !deps.cryptoInvoices)) {
    throw serviceUnavailable('crypto_payments_unavailable', 'Crypto payments are not available');
  }
  checkQuantities(deps.limits, body);
  // Unlocked first, so a buyer at the cap costs no rates-provider call; the check that counts is under the lock below.
  if (body.paymentMethod === 'crypto') await checkOpenUnpaid(deps.limits, deps.database.db, buyerId, new Date(deps.clock.now()));
  const quoted = body.paymentMethod === 'crypto' ? await quoteBeforeReserving(deps, body) : undefined;
  // Its invoice too, for the same reason; the order is written with it (crypto-invoice.ts).
  const invoiced = quoted && (await openCryptoInvoice(deps.cryptoInvoices!, { buyerId, ...quoted.priced, quote: quoted.quote }));
  /*
   * Three round trips: BEGIN with the buyer's lock (taken before any stock row, by every
   * placement alike, so the locks cannot deadlock); one statement that reserves every line (the
   * catalogue's CTEs, with its cache broadcast) and writes the order and its lines unless
   * something is wrong (a line short, mixed currencies, a changed price, the buyer at the cap,
   * counted after the lock); COMMIT, or ROLLBACK once the reason is known. With an
   * Idempotency-Key, two more: the key looked up under the lock, and stored with the order.
   */
  const placing = deps.database.transaction(
    async (unit) => {
      // A duplicate that waited on the buyer's lock for the first finds the first's key here.
      const replay = idempotency && (await storedReplyFor(unit.tx, buyerId, idempotency, deps.clock.now()));
      if (replay) return { replay };
      const reservation = deps.stock.planStockReservation(unit, body.items);
      const now = deps.clock.now();
      const quote = quoted?.quote;
      const placed = await placeReservedOrder(
        unit.tx,
        reservation.ctes,
        {
          buyerId,
          paymentMethod: body.paymentMethod,
          expiresAt: new Date(now + (body.paymentMethod === 'card' ? deps.limits.cardHoldMinutes : deps.limits.cryptoHoldMinutes) * 60_000),
          ...(quote
            ? {
                cryptoSymbol: quote.symbol,
                cryptoAmount: quote.amount,
                cryptoRate: String(quote.rate),
                cryptoRateTier: quote.tier,
                cryptoRateSource: quote.source,
                cryptoQuoteExpiresAt: new Date(quote.expiresAt),
                id: invoiced?.orderId,
                cryptoInvoiceId: invoiced?.invoice.invoiceId,
                cryptoCheckoutUrl: invoiced?.invoice.checkoutUrl,
              }
            : {}),
        },
        { maxOpen: deps.limits.maxOpenUnpaid, now: new Date(now), expect: quoted?.priced },
      );
      if (placed.order) {
        const order = toOrderView(placed.order, placed.items);
        if (idempotency) await rememberReply(unit.tx, buyerId, idempotency, { status: 201, body: { order }, orderId: order.id }, now);
        return { order };
      }
      // Nothing written: why, in the order a buyer should hear it. Each throw rolls the reservation back.
      const reserved = reservation.settle(placed.reservation);
      const { currency, totalCents } = priceLines(reserved);
      /*
       * A price changed between the quote and the reservation. Refused rather than re-quoted:
       * re-quoting means waiting on the provider again, and the buyer should see the new total
       * before paying it.
       */
      if (quoted && (quoted.priced.totalCents !== totalCents || quoted.priced.currency !== currency))
        throw conflict('price_changed', 'A price changed while the order was being quoted; please review the order and try again', {
          quotedCents: quoted.priced.totalCents,
          totalCents,
          currency,
        });
      throw tooManyOpenOrders(deps.limits, placed.open);
    },
    { advisoryLock: buyerOrdersLock(buyerId) },
  );
  const placed = await voidInvoiceUnlessPlaced(deps.cryptoInvoices, invoiced?.invoice, deps.logger, placing);
  if (placed.replay) return { ...placed.replay, replayed: true };
  return { status: 201, body: { order: placed.order }, replayed: false };
}

export async function cancelOrder(deps: OrdersDeps, buyerId: string, orderId: string): Promise<OrderView> {
  const { order, items } = await deps.database.transaction(async (unit) => {
    const cancelled = await transitionOwnOrder(unit.tx, orderId, buyerId, statusesLeadingTo('cancel', 'cancelled'), 'cancelled');
    if (!cancelled) {
      const existing = await findOrder(unit.tx, orderId);
      if (!existing || existing.buyerId !== buyerId) throw notFound('Order');
      throw conflict('order_not_cancellable', `A ${existing.status} order cannot be cancelled`);
    }
    const items = await findItems(unit.tx, orderId);
    await deps.stock.releaseStock(unit, items);
    return { order: cancelled, items };
  });
  return toOrderView(order, items);
}

/** Expires unpaid orders past their deadline and puts their stock back; returns how many. */
export async function expireOverdue(deps: OrdersDeps, batch = 100): Promise<number> {
  let total = 0;
  for (;;) {
    const expired = await deps.database.transaction(async (unit) => {
      const expired = await expireOverdueOrders(
        unit.tx,
        new Date(deps.clock.now()),
        batch,
        statusesLeadingTo('expire', 'expired'),
        'expired',
      );
      await deps.stock.releaseStock(unit, await findItemsOfOrders(unit.tx, expired));
      return expired;
    });
    if (expired.length > 0) deps.logger.info(`[ORDERS] Expired ${expired.length} unpaid order(s); stock released`);
    total += expired.length;
    if (expired.length < batch) return total;
  }
}

export async function viewOrder(deps: OrdersDeps, userId: string, orderId: string): Promise<OrderView> {
  const { db } = deps.database;
  const vendorId = await findVendorIdOfUser(db, userId);
  const order = await findOrderVisibleTo(db, orderId, userId, vendorId);
  if (!order) throw notFound('Order');
  // Visible and not the buyer's: the caller sells one of its lines.
  const viewer: OrderViewer = order.buyerId === userId || !vendorId ? { as: 'buyer' } : { as: 'vendor', vendorId };
  const items = await findItems(db, orderId);
  const fulfilments = await loadFulfilmentViews(db, [order], items);
  return toOrderView(order, items, viewer, fulfilments.get(order.id));
}

export async function listMyOrders(deps: OrdersDeps, buyerId: string, limit: number): Promise<OrderView[]> {
  const orders = await listOrdersOfBuyer(deps.database.db, buyerId, limit);
  const items = await findItemsOfOrders(
    deps.database.db,
    orders.map((o) => o.id),
  );
  const fulfilments = await loadFulfilmentViews(deps.database.db, orders, items);
  return orders.map((o) =>
    toOrderView(
      o,
      items.filter((i) => i.orderId === o.id),
      { as: 'buyer' },
      fulfilments.get(o.id),
    ),
  );
}
