import { conflict, serviceUnavailable } from '../../lib/errors';
import type { RefundableOrder as OrderForRefund } from '../orders';
import type { Logger } from '../../lib/logger';
import { type BtcpayClient, BtcpayRequestRefused, centsToAmount } from './btcpay-client';
import { cryptoPaymentsUnavailable } from './btcpay-invoices';
import { PaymentNotRefundable, type PaymentProvider, PaymentProviderUnavailable } from './payment-provider';

/** The order as the refund needs it (`orders.findOrderForRefund`; the admin module passes it on). */
export type RefundableOrder = Omit<OrderForRefund, 'status'>;

export interface PaymentRefund {
  provider: 'stripe' | 'btcpay';
  /** The provider's refund (Stripe) or pull payment (BTCPay) id. */
  reference: string;
  amountCents: number;
  /** Where the buyer claims a crypto refund with their own address; null for a card refund (it goes back to the card). */
  claimUrl: string | null;
}

export interface RefundDeps {
  logger: Logger;
  stripe?: PaymentProvider;
  /** False with STRIPE_ENABLED=false. */
  cardEnabled: boolean;
  btcpay?: BtcpayClient;
}

const notRefundable = (why: string) => conflict('not_refundable', `There is no payment to refund: ${why}`);

/** Refunds what is left of an order's payment through its provider (see PaymentsModule.refundOrderPayment). */
export async function refundOrderPayment(deps: RefundDeps, order: RefundableOrder): Promise<PaymentRefund> {
  const amountCents = order.totalCents - order.refundedCents;
  if (amountCents <= 0) throw notRefundable('it is refunded in full already');
  return order.paymentMethod === 'card' ? refundCard(deps, order, amountCents) : refundCrypto(deps, order, amountCents);
}

async function refundCard(deps: RefundDeps, order: RefundableOrder, amountCents: number): Promise<PaymentRefund> {
  if (!order.stripePaymentIntentId) throw notRefundable('the order was never paid by card');
  if (!deps.stripe) {
    throw deps.cardEnabled
      ? serviceUnavailable('payments_not_configured', 'Card payments are not configured on this server')
      : serviceUnavailable('card_payments_unavailable', 'Card payments are turned off on this server (STRIPE_ENABLED=false)');
  }
  try {
    // Keyed by what was refunded before: a retry of this refund is the same refund, a later one for a new remainder is not.
    const refund = await deps.stripe.refundPayment(
      order.stripePaymentIntentId,
      amountCents,
      `order-refund:${order.id}:${order.refundedCents}`,
    );
    return { provider: 'stripe', reference: refund.reference, amountCents, claimUrl: null };
  } catch (error) {
    if (error instanceof PaymentNotRefundable) throw notRefundable(`Stripe says ${error.detail}`);
    if (error instanceof PaymentProviderUnavailable) {
      deps.logger.warn(`[PAYMENTS] Stripe unavailable for a refund (${error.reason}): ${error.detail}`);
      throw serviceUnavailable(
        'payment_provider_unavailable',
        'The payment provider is temporarily unavailable; try again shortly',
        error.retryAfterSeconds,
      );
    }
    throw error;
  }
}

/**
 * A crypto refund is a BTCPay pull payment: BTCPay cannot send coins back on its own (it does not
 * know the buyer's address), so the buyer claims it at its link. The whole remainder as its fiat
 * value (`Fiat`), or a part of it (`Custom`), in the coin the invoice was paid with.
 */
async function refundCrypto(deps: RefundDeps, order: RefundableOrder, amountCents: number): Promise<PaymentRefund> {
  if (!order.cryptoInvoiceId) throw notRefundable('the order has no crypto invoice');
  if (!deps.btcpay) throw serviceUnavailable('crypto_payments_unavailable', 'Crypto payments are not configured on this server');
  const invoiceId = order.cryptoInvoiceId;
  try {
    const methods = await deps.btcpay.listPaymentMethods(invoiceId);
    const paid = methods.find((m) => Number(m.paymentMethodPaid ?? 0) > 0);
    if (!paid) throw notRefundable('nothing was paid on its invoice');
    const whole = order.refundedCents === 0;
    const pullPayment = await deps.btcpay.refundInvoice(invoiceId, {
      name: `Refund of order ${order.id}`,
      paymentMethod: paid.paymentMethodId ?? paid.paymentMethod,
      ...(whole
        ? { refundVariant: 'Fiat' as const }
        : { refundVariant: 'Custom' as const, customAmount: centsToAmount(amountCents), customCurrency: order.currency.toUpperCase() }),
    });
    return { provider: 'btcpay', reference: pullPayment.id, amountCents, claimUrl: pullPayment.viewLink };
  } catch (error) {
    if (error instanceof BtcpayRequestRefused) throw notRefundable(`BTCPay refused (${error.status}${error.code ? ` ${error.code}` : ''})`);
    throw cryptoPaymentsUnavailable(deps.logger, error);
  }
}
