import type { Clock } from '../../lib/clock';
import { serviceUnavailable } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { CryptoInvoices } from '../orders';
import { type BtcpayClient, BtcpayRequestRefused, centsToAmount } from './btcpay-client';
import { PaymentProviderUnavailable } from './payment-provider';

/**
 * Orders' crypto invoices as BTCPay Server Greenfield invoices: the order's total in its fiat
 * currency (BTCPay converts at its own rate when the buyer picks a coin), our quote alongside in
 * the metadata, and the invoice's expiry equal to the quote's.
 */
export function createBtcpayInvoices(client: BtcpayClient, { clock, logger }: { clock: Clock; logger: Logger }): CryptoInvoices {
  return {
    async create(order) {
      const expirationMinutes = Math.max(1, Math.ceil((Date.parse(order.quote.expiresAt) - clock.now()) / 60_000));
      try {
        const invoice = await client.createInvoice({
          amount: centsToAmount(order.totalCents),
          currency: order.currency.toUpperCase(),
          // `orderId` is what BTCPay indexes and shows; the webhook checks the order it names.
          metadata: { orderId: order.id, itemDesc: `Marketplace order ${order.id}`, quote: order.quote },
          checkout: { expirationMinutes },
        });
        if (!invoice?.id || !invoice.checkoutLink) {
          throw new PaymentProviderUnavailable('btcpay', 'failing', 'created an invoice without an id or checkout link');
        }
        return { invoiceId: invoice.id, checkoutUrl: invoice.checkoutLink };
      } catch (error) {
        throw cryptoPaymentsUnavailable(logger, error);
      }
    },
    async void(invoiceId) {
      try {
        await client.markInvoiceInvalid(invoiceId);
        logger.info(`[PAYMENTS] BTCPay invoice ${invoiceId} marked invalid: its order was not placed`);
      } catch (error) {
        // It expires with its quote anyway, and nobody was given its link.
        logger.warn(`[PAYMENTS] Could not mark BTCPay invoice ${invoiceId} invalid (${describe(error)}); it expires on its own`);
      }
    },
  };
}

/**
 * Any failure to get an invoice means the buyer cannot pay now: 503 with Retry-After, no order.
 * Refused credentials or a refused request (a store without a wallet) are the operator's to fix,
 * so they are logged as errors.
 */
export function cryptoPaymentsUnavailable(logger: Logger, error: unknown): unknown {
  if (error instanceof PaymentProviderUnavailable) {
    if (error.reason === 'misconfigured') logger.error(`[PAYMENTS] BTCPay refused our API key (${error.detail}): check BTCPAY_API_KEY`);
    else logger.warn(`[PAYMENTS] BTCPay unavailable (${error.reason}): ${error.detail}`);
  } else if (error instanceof BtcpayRequestRefused) {
    logger.error(`[PAYMENTS] ${error.message}: check the BTCPay store's setup (wallet, currency)`);
  } else {
    return error;
  }
  return serviceUnavailable(
    'crypto_payments_unavailable',
    'Crypto payments are temporarily unavailable; try again shortly',
    error instanceof PaymentProviderUnavailable ? error.retryAfterSeconds : 30,
  );
}

export function describe(error: unknown): string {
  if (error instanceof PaymentProviderUnavailable) return error.reason;
  return error instanceof Error ? error.message : 'unknown';
}
