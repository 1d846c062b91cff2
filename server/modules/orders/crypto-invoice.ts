import { randomUUID } from 'node:crypto';
import type { Logger } from '../../lib/logger';

/*
 * The order's side of a crypto payment processor's invoice (BTCPay Server, wired in by app.ts
 * from the payments module): orders only knows that an invoice has an id and a link where the
 * buyer pays it.
 */

export interface CryptoInvoice {
  invoiceId: string;
  /** Where the buyer pays (the processor's checkout page). */
  checkoutUrl: string;
}

/** The crypto quote an order is priced at (the crypto-rates module's), shown on the invoice next to the fiat amount. */
export interface InvoicedQuote {
  symbol: string;
  amount: string;
  rate: number;
  tier: string;
  source: string;
  expiresAt: string;
}

/** What orders asks of the crypto payment processor. */
export interface CryptoInvoices {
  /**
   * Opens the invoice for an order about to be placed (its id chosen already): the order's total
   * in its fiat currency, expiring with the quote. Throws a 503 `crypto_payments_unavailable`
   * AppError when the processor cannot answer in time.
   */
  create(order: { id: string; buyerId: string; totalCents: number; currency: string; quote: InvoicedQuote }): Promise<CryptoInvoice>;
  /** Stops an invoice whose order was never placed from being paid; best effort, never throws. */
  void(invoiceId: string): Promise<void>;
}

/**
 * Picks the order's id and opens its invoice before the placing transaction starts: the invoice
 * is an HTTP call and no stock row may stay locked while it runs. The order is then written with
 * the invoice id and link in the same insert.
 */
export async function openCryptoInvoice(
  invoices: CryptoInvoices,
  order: { buyerId: string; totalCents: number; currency: string; quote: InvoicedQuote },
): Promise<{ orderId: string; invoice: CryptoInvoice }> {
  const orderId = randomUUID();
  return { orderId, invoice: await invoices.create({ id: orderId, ...order }) };
}

/**
 * Awaits the placement; if it writes no order (refused: out of stock, a changed price, the cap;
 * or an Idempotency-Key replay answered with another order), the invoice opened for it is marked
 * invalid rather than left to expire. Nobody was given its link, but an invalid invoice cannot be
 * paid by any means, and the store's invoice list shows at once that it was never an order.
 */
export async function voidInvoiceUnlessPlaced<T extends { replay?: unknown }>(
  invoices: CryptoInvoices | undefined,
  invoice: CryptoInvoice | undefined,
  logger: Logger,
  placing: Promise<T>,
): Promise<T> {
  if (!invoice || !invoices) return placing;
  let placed: T;
  try {
    placed = await placing;
  } catch (error) {
    await invoices.void(invoice.invoiceId);
    throw error;
  }
  if (placed.replay) {
    logger.info(`[ORDERS] Invoice ${invoice.invoiceId} voided: the request was a replay of an order already placed`);
    await invoices.void(invoice.invoiceId);
  }
  return placed;
}
