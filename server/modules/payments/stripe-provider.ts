import type Stripe from 'stripe';
import { AppError, badRequest } from '../../lib/errors';
import type { PaymentUpdate } from '../orders';
import type { PaymentProvider, ProviderEvent, ProviderPayment } from './payment-provider';

const toPayment = (intent: Stripe.PaymentIntent): ProviderPayment => ({ reference: intent.id, clientSecret: intent.client_secret });

/** Stripe PaymentIntents and webhooks behind the provider interface. */
export function createStripeProvider(stripe: Stripe, webhookSecret: string | undefined): PaymentProvider {
  return {
    name: 'stripe',
    async createPayment(order) {
      const intent = await stripe.paymentIntents.create(
        {
          amount: order.totalCents,
          currency: order.currency,
          metadata: { orderId: order.id },
          automatic_payment_methods: { enabled: true },
        },
        { idempotencyKey: `order-payment-intent:${order.id}` },
      );
      return toPayment(intent);
    },
    async findPayment(reference) {
      return toPayment(await stripe.paymentIntents.retrieve(reference));
    },
    verifyWebhook(raw, header) {
      if (!webhookSecret) throw new AppError(503, 'payments_not_configured', 'Card payments are not configured on this server');
      const signature = header('stripe-signature');
      if (!raw || !signature) throw badRequest('invalid_signature', 'Missing Stripe signature or JSON body');
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(raw, signature, webhookSecret);
      } catch {
        throw badRequest('invalid_signature', 'The Stripe signature does not match');
      }
      return { id: event.id, type: event.type, payload: event, update: toPaymentUpdate(event) } satisfies ProviderEvent;
    },
  };
}

function toPaymentUpdate(event: Stripe.Event): PaymentUpdate | undefined {
  switch (event.type) {
    case 'payment_intent.succeeded': {
      const intent = event.data.object;
      return {
        kind: 'succeeded',
        orderId: intent.metadata?.orderId,
        reference: intent.id,
        amountCents: intent.amount_received || intent.amount,
        currency: intent.currency,
      };
    }
    case 'payment_intent.payment_failed': {
      const intent = event.data.object;
      return { kind: 'failed', orderId: intent.metadata?.orderId, reference: intent.id };
    }
    case 'charge.refunded': {
      const charge = event.data.object;
      const reference = typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id;
      return reference
        ? { kind: 'refunded', reference, amountCents: charge.amount, amountRefundedCents: charge.amount_refunded }
        : undefined;
    }
    default:
      return undefined;
  }
}
