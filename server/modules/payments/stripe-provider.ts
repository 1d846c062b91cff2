import Stripe from 'stripe';
import { DeadlineExceeded, withDeadline } from '../../lib/deadline';
import { AppError, badRequest } from '../../lib/errors';
import type { PaymentUpdate } from '../orders';
import {
  PaymentDeclined,
  PaymentNotRefundable,
  type PaymentProvider,
  PaymentProviderUnavailable,
  type ProviderEvent,
  type ProviderPayment,
} from './payment-provider';

const toPayment = (intent: Stripe.PaymentIntent): ProviderPayment => ({ reference: intent.id, clientSecret: intent.client_secret });

/** Stripe PaymentIntents and webhooks behind the provider interface. */
export function createStripeProvider(
  stripe: Stripe,
  webhookSecret: string | undefined,
  { timeoutMs }: { timeoutMs: number },
): PaymentProvider {
  /**
   * Runs a Stripe call under a deadline and turns the SDK's errors that are not ours (nor the
   * buyer's) into provider-neutral ones. The SDK's `timeout` is a socket idle timeout: a Stripe
   * that trickles bytes would keep it alive, the deadline does not.
   */
  async function callStripe<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await withDeadline(timeoutMs, call);
    } catch (error) {
      if (error instanceof DeadlineExceeded) throw new PaymentProviderUnavailable('stripe', 'timeout', error.message);
      throw toProviderError(error);
    }
  }

  return {
    name: 'stripe',
    async createPayment(order) {
      const intent = await callStripe(() =>
        stripe.paymentIntents.create(
          {
            amount: order.totalCents,
            currency: order.currency,
            metadata: { orderId: order.id },
            automatic_payment_methods: { enabled: true },
          },
          { idempotencyKey: `order-payment-intent:${order.id}` },
        ),
      );
      return toPayment(intent);
    },
    async findPayment(reference) {
      return toPayment(await callStripe(() => stripe.paymentIntents.retrieve(reference)));
    },
    async cancelPayment(reference) {
      await callStripe(() => stripe.paymentIntents.cancel(reference));
    },
    async refundPayment(reference, amountCents, idempotencyKey) {
      try {
        const refund = await callStripe(() =>
          stripe.refunds.create({ payment_intent: reference, amount: amountCents }, { idempotencyKey }),
        );
        return { reference: refund.id };
      } catch (error) {
        // e.g. charge_already_refunded, or an intent that was never charged.
        if (error instanceof Stripe.errors.StripeInvalidRequestError) throw new PaymentNotRefundable('stripe', error.code ?? error.type);
        throw error;
      }
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

const { StripeError, StripeConnectionError, StripeAuthenticationError, StripePermissionError, StripeRateLimitError, StripeCardError } =
  Stripe.errors;

function toProviderError(error: unknown): unknown {
  if (!(error instanceof StripeError)) return error;
  // Only the class and status go to the log: Stripe's own message for a bad key quotes part of it.
  const detail = `${error.type}${error.statusCode ? ` ${error.statusCode}` : ''}${error.requestId ? ` (request ${error.requestId})` : ''}`;
  if (error instanceof StripeCardError) return new PaymentDeclined('stripe', error.decline_code ?? error.code);
  // The SDK's own timeout ends as a connection error too ("Request aborted due to timeout being reached").
  if (error instanceof StripeConnectionError) {
    return new PaymentProviderUnavailable('stripe', /timeout/i.test(error.message) ? 'timeout' : 'unreachable', detail);
  }
  if (error instanceof StripeAuthenticationError || error instanceof StripePermissionError) {
    return new PaymentProviderUnavailable('stripe', 'misconfigured', detail, 60);
  }
  if (error instanceof StripeRateLimitError) return new PaymentProviderUnavailable('stripe', 'rate_limited', detail, retryAfterOf(error));
  if ((error.statusCode ?? 500) >= 500) return new PaymentProviderUnavailable('stripe', 'failing', detail);
  return error;
}

function retryAfterOf(error: InstanceType<typeof StripeError>): number {
  const seconds = Number(error.headers?.['retry-after']);
  return Number.isInteger(seconds) && seconds > 0 && seconds <= 300 ? seconds : 5;
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
    // Either way the order will not be paid with this intent: orders ends it and releases its stock.
    case 'payment_intent.payment_failed':
    case 'payment_intent.canceled': {
      const intent = event.data.object;
      const reason = event.type === 'payment_intent.canceled' ? 'cancelled' : 'declined';
      return { kind: 'failed', orderId: intent.metadata?.orderId, reference: intent.id, reason };
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
