import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Database, UnitOfWork } from '../../db';
import { badRequest, serviceUnavailable } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { PaymentUpdate } from '../orders';
import { amountToCents, type BtcpayClient, BtcpayRequestRefused } from './btcpay-client';
import { cryptoPaymentsUnavailable } from './btcpay-invoices';
import { finishBtcpayEvent, recordBtcpayEvent } from './payments.repository';

export interface BtcpayWebhookDeps {
  database: Database;
  logger: Logger;
  /** Unset: BTCPay is not configured, the route answers 503. */
  btcpay?: { client: BtcpayClient; webhookSecret: string };
  applyUpdate(unit: UnitOfWork, update: PaymentUpdate): Promise<string>;
}

/** The fields of a Greenfield webhook event we read (each type adds its own). */
interface BtcpayEvent {
  deliveryId: string;
  originalDeliveryId?: string | null;
  type: string;
  invoiceId: string;
  metadata?: { orderId?: unknown } | null;
  partiallyPaid?: boolean;
  afterExpiration?: boolean;
  overPaid?: boolean;
}

/**
 * Checks `BTCPay-Sig: sha256=<hex HMAC-SHA256(secret, raw body)>` against the exact bytes
 * received, in constant time; 400 `invalid_signature` when missing, malformed or wrong.
 */
export function verifyBtcpayEvent(secret: string, raw: Buffer | undefined, header: string | undefined): BtcpayEvent {
  const given = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '')?.[1];
  if (!raw || !given) throw badRequest('invalid_signature', 'Missing or malformed BTCPay-Sig header (sha256=<64 hex digits>), or no body');
  const expected = createHmac('sha256', secret).update(raw).digest();
  // Both are 32 bytes here (the pattern above), so the comparison itself leaks nothing.
  if (!timingSafeEqual(Buffer.from(given, 'hex'), expected)) throw badRequest('invalid_signature', 'The BTCPay signature does not match');
  let event: unknown;
  try {
    event = JSON.parse(raw.toString('utf8'));
  } catch {
    throw badRequest('invalid_event', 'The event is not JSON');
  }
  const e = event as Partial<BtcpayEvent> | null;
  if (typeof e?.deliveryId !== 'string' || typeof e.type !== 'string' || typeof e.invoiceId !== 'string') {
    throw badRequest('invalid_event', 'The event has no deliveryId, type or invoiceId');
  }
  return e as BtcpayEvent;
}

/**
 * Records the event (keyed by the first delivery's id, so a redelivery is the same row) and
 * applies its verdict in one transaction: concurrent deliveries of one event wait on that key,
 * and all but one find it recorded and do nothing.
 */
export async function receiveBtcpayEvent(
  deps: BtcpayWebhookDeps,
  raw: Buffer | undefined,
  header: (name: string) => string | undefined,
): Promise<{ duplicate: boolean }> {
  if (!deps.btcpay) throw serviceUnavailable('crypto_payments_unavailable', 'Crypto payments are not configured on this server');
  const event = verifyBtcpayEvent(deps.btcpay.webhookSecret, raw, header('btcpay-sig'));
  const id = event.originalDeliveryId || event.deliveryId;
  const update = await toPaymentUpdate(deps, event);
  const result = await deps.database.transaction(async (unit) => {
    if (!(await recordBtcpayEvent(unit.tx, { id, type: event.type, invoiceId: event.invoiceId, payload: event }))) {
      return { duplicate: true };
    }
    const outcome = update ? await deps.applyUpdate(unit, update) : 'ignored';
    await finishBtcpayEvent(unit.tx, id, outcome);
    return { duplicate: false, outcome };
  });
  if (!result.duplicate) deps.logger.info(`[PAYMENTS] btcpay ${event.type} ${id} (invoice ${event.invoiceId}): ${result.outcome}`);
  return { duplicate: result.duplicate };
}

async function toPaymentUpdate(deps: BtcpayWebhookDeps, event: BtcpayEvent): Promise<PaymentUpdate | undefined> {
  const orderId = typeof event.metadata?.orderId === 'string' ? event.metadata.orderId : undefined;
  const invoice = { orderId, reference: event.invoiceId, referenceIs: 'crypto_invoice' as const };
  switch (event.type) {
    case 'InvoiceSettled': {
      // The event carries no amount: the invoice's own says what was settled, and orders compares it with the order's.
      const settled = await findSettledAmount(deps, event.invoiceId);
      if (!settled) return undefined;
      if (event.overPaid)
        deps.logger.warn(`[PAYMENTS] BTCPay invoice ${event.invoiceId} was overpaid; the excess is the admin's to refund`);
      return { kind: 'succeeded', ...invoice, ...settled };
    }
    case 'InvoiceExpired':
      return event.partiallyPaid ? { kind: 'needs_review', ...invoice, reason: 'partial_payment' } : { kind: 'expired', ...invoice };
    case 'InvoiceInvalid':
      return { kind: 'expired', ...invoice };
    case 'InvoiceReceivedPayment':
    case 'InvoicePaymentSettled':
      return event.afterExpiration ? { kind: 'needs_review', ...invoice, reason: 'late_payment' } : undefined;
    default:
      return undefined;
  }
}

/** The invoice's amount in cents and currency; undefined when BTCPay does not know it (recorded, ignored). */
async function findSettledAmount(
  deps: BtcpayWebhookDeps,
  invoiceId: string,
): Promise<{ amountCents: number; currency: string } | undefined> {
  try {
    const invoice = await deps.btcpay!.client.findInvoice(invoiceId);
    return { amountCents: amountToCents(String(invoice.amount)), currency: String(invoice.currency) };
  } catch (error) {
    if (error instanceof BtcpayRequestRefused && error.status === 404) return undefined;
    // BTCPay retries a delivery answered with an error, so the verdict is only deferred.
    throw cryptoPaymentsUnavailable(deps.logger, error);
  }
}
