import { z } from 'zod';
import { PaymentIntentView } from '../../../shared/contracts';
import { defineRoute, errors, type HeaderSpec, json, type Route, reply } from '../../lib/http/define-route';
import { rawBodyOf } from '../../lib/raw-body';
import { uuidParam } from '../../lib/validate';
import { type BtcpayWebhookDeps, receiveBtcpayEvent } from './btcpay-webhook';
import { type PaymentsDeps, processProviderEvent, startCardPayment, verifyWebhook } from './payments.service';

const IdParams = z.object({ id: uuidParam });
const retryAfter: Record<string, HeaderSpec> = { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } };

export function paymentsRoutes(deps: PaymentsDeps, btcpay: BtcpayWebhookDeps): Route[] {
  return [
    defineRoute({
      operationId: 'createPaymentIntent',
      method: 'post',
      path: '/api/orders/:id/payment-intent',
      tag: 'payments',
      summary: 'Stripe PaymentIntent for a card order (idempotent)',
      auth: 'user',
      limit: ['writes'],
      params: IdParams,
      responses: {
        200: json('The PaymentIntent to confirm in the browser', PaymentIntentView),
        402: errors('The provider declined the card', 'card_declined'),
        404: errors('No such order of mine', 'not_found'),
        409: errors('Paid in crypto, or no longer pending', 'wrong_payment_method', 'order_not_payable'),
        502: errors('Stripe answered without a client secret', 'payment_provider_error'),
        503: {
          ...errors(
            'Card payments are not configured or turned off on this server, or the payment provider is unreachable, failing, throttling us or refusing our key (retry after the delay)',
            'payments_not_configured',
            'card_payments_unavailable',
            'payment_provider_unavailable',
          ),
          headers: retryAfter,
        },
      },
      handler: async ({ user, params }) => reply(200, await startCardPayment(deps, user.id, params.id)),
    }),

    defineRoute({
      operationId: 'receiveStripeEvent',
      method: 'post',
      path: '/api/stripe/webhook',
      tag: 'payments',
      summary: 'Stripe webhook (signature verified, each event once)',
      description:
        'Signed with the `Stripe-Signature` header over the exact body bytes. Never rate limited: Stripe delivers from a few shared IPs in bursts.',
      auth: 'anyone',
      limit: [],
      rawBody: { contentType: 'application/json', description: 'The Stripe event, exactly as Stripe sent it', schema: { type: 'object' } },
      responses: {
        // Answered as soon as the event is recorded and applied; e-mail goes out from the queue later.
        200: json('Recorded (or a redelivery of an event already recorded)', z.object({ received: z.boolean(), duplicate: z.boolean() })),
        400: errors('Missing or wrong signature', 'invalid_signature'),
        503: errors(
          'Stripe is not configured, or card payments are off (STRIPE_ENABLED=false)',
          'payments_not_configured',
          'card_payments_unavailable',
        ),
      },
      async handler({ req }) {
        const event = verifyWebhook(deps, rawBodyOf(req), (name) => req.get(name));
        const { duplicate } = await processProviderEvent(deps, event);
        return reply(200, { received: true, duplicate });
      },
    }),

    defineRoute({
      operationId: 'receiveBtcpayEvent',
      method: 'post',
      path: '/api/payments/btcpay/webhook',
      tag: 'payments',
      summary: 'BTCPay Server webhook (signature verified, each event once)',
      description:
        "Signed with `BTCPay-Sig: sha256=<HMAC-SHA256 of the exact body bytes>` (the store webhook's secret). An event is recorded once under its first delivery's id (`originalDeliveryId` of a redelivery), in the same transaction as its effect: `InvoiceSettled` → paid, `InvoiceExpired`/`InvoiceInvalid` → expired (stock released), a partial or late payment → review. Unknown types and invoices are recorded and ignored. Never rate limited.",
      auth: 'anyone',
      limit: [],
      rawBody: {
        contentType: 'application/json',
        description: 'The BTCPay webhook event, exactly as BTCPay sent it',
        schema: { type: 'object' },
      },
      responses: {
        200: json('Recorded (or a redelivery of an event already recorded)', z.object({ received: z.boolean(), duplicate: z.boolean() })),
        400: errors('Missing or wrong signature, or a signed body that is not a BTCPay event', 'invalid_signature', 'invalid_event'),
        503: {
          ...errors(
            'BTCPay is not configured on this server, or did not answer when asked for a settled invoice (BTCPay delivers again)',
            'crypto_payments_unavailable',
          ),
          headers: retryAfter,
        },
      },
      async handler({ req }) {
        const { duplicate } = await receiveBtcpayEvent(btcpay, rawBodyOf(req), (name) => req.get(name));
        return reply(200, { received: true, duplicate });
      },
    }),
  ];
}
