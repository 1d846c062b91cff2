import type Stripe from 'stripe';
import type { UnitOfWork } from '../../db';
import type { AppModule, ModuleContext } from '../../lib/module';
import type { CryptoInvoices, PaymentUpdate } from '../orders';
import { createBtcpayClient } from './btcpay-client';
import { createBtcpayInvoices } from './btcpay-invoices';
import type { BtcpayWebhookDeps } from './btcpay-webhook';
import { type PaymentRefund, type RefundableOrder, refundOrderPayment } from './payment-refunds';
import { paymentsRoutes } from './payments.routes';
import type { PaymentsDeps } from './payments.service';
import { createStripeClient } from './stripe-client';
import { createStripeProvider } from './stripe-provider';

export type { PaymentRefund, RefundableOrder } from './payment-refunds';

export interface PaymentsOptions {
  /** The orders module's verdict handler (`orders.applyPaymentUpdate`). */
  applyUpdate(unit: UnitOfWork, update: PaymentUpdate): Promise<string>;
  /** A Stripe client to use instead of one built from the config. */
  stripe?: Stripe;
}

export interface PaymentsModule extends AppModule {
  /** Crypto invoices (BTCPay Server) for orders to be placed with; undefined when BTCPay is not configured. */
  cryptoInvoices: CryptoInvoices | undefined;
  /**
   * Refunds what is left of an order's payment through its provider (card: a Stripe refund with
   * an idempotency key derived from the order; crypto: a BTCPay refund pull payment whose link
   * the buyer claims). Throws a 503 AppError when the provider cannot answer (or is not
   * configured), 409 `not_refundable` when there is no payment to refund.
   */
  refundOrderPayment(order: RefundableOrder): Promise<PaymentRefund>;
}

export function createPaymentsModule(context: ModuleContext, options: PaymentsOptions): PaymentsModule {
  const { config, logger, database, clock } = context;
  // Off: no client at all, even when a key is set, so nothing can reach Stripe.
  const stripe = config.STRIPE_ENABLED ? (options.stripe ?? createStripeClient(config)) : undefined;
  const provider = stripe ? createStripeProvider(stripe, config.STRIPE_WEBHOOK_SECRET, { timeoutMs: config.STRIPE_TIMEOUT_MS }) : undefined;
  const deps: PaymentsDeps = {
    enabled: config.STRIPE_ENABLED,
    database,
    logger,
    provider,
    publishableKey: config.STRIPE_PUBLISHABLE_KEY,
    applyUpdate: options.applyUpdate,
  };
  // The config guarantees all four BTCPay settings or none.
  const btcpayClient =
    config.BTCPAY_URL && config.BTCPAY_API_KEY && config.BTCPAY_STORE_ID
      ? createBtcpayClient({
          url: config.BTCPAY_URL,
          apiKey: config.BTCPAY_API_KEY,
          storeId: config.BTCPAY_STORE_ID,
          timeoutMs: config.BTCPAY_TIMEOUT_MS,
        })
      : undefined;
  const btcpay: BtcpayWebhookDeps = {
    database,
    logger,
    applyUpdate: options.applyUpdate,
    btcpay:
      btcpayClient && config.BTCPAY_WEBHOOK_SECRET ? { client: btcpayClient, webhookSecret: config.BTCPAY_WEBHOOK_SECRET } : undefined,
  };
  return {
    name: 'payments',
    routes: paymentsRoutes(deps, btcpay),
    cryptoInvoices: btcpayClient && createBtcpayInvoices(btcpayClient, { clock, logger }),
    refundOrderPayment: (order) =>
      refundOrderPayment({ logger, stripe: provider, cardEnabled: config.STRIPE_ENABLED, btcpay: btcpayClient }, order),
    health: () => ({
      status: 'ok',
      mode: config.PAYMENTS_MODE,
      card: config.STRIPE_ENABLED ? 'enabled' : 'disabled',
      provider: !config.STRIPE_ENABLED ? 'disabled' : (deps.provider?.name ?? 'not_configured'),
      crypto: btcpayClient ? 'btcpay' : 'not_configured',
    }),
  };
}
