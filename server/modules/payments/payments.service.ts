import type { PaymentIntentView } from '../../../shared/contracts';
import type { Database, UnitOfWork } from '../../db';
import { AppError, serviceUnavailable } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { ENDED_BY_FAILED_PAYMENT, findPayableOrder, type PaymentUpdate, recordPaymentReference } from '../orders';
import { PaymentDeclined, type PaymentProvider, PaymentProviderUnavailable, type ProviderEvent } from './payment-provider';
import { finishProviderEvent, recordProviderEvent } from './payments.repository';

export interface PaymentsDeps {
  database: Database;
  logger: Logger;
  provider?: PaymentProvider;
  publishableKey?: string;
  /** False with STRIPE_ENABLED=false: every card route answers 503 card_payments_unavailable. */
  enabled: boolean;
  /** The orders module applying a verdict inside the unit of work that records the event. */
  applyUpdate(unit: UnitOfWork, update: PaymentUpdate): Promise<string>;
}

const notConfigured = (deps: PaymentsDeps) =>
  deps.enabled
    ? serviceUnavailable('payments_not_configured', 'Card payments are not configured on this server')
    : serviceUnavailable('card_payments_unavailable', 'Card payments are turned off on this server (STRIPE_ENABLED=false)');

/**
 * Creates (or finds) the order's payment. The amount comes from the database, never the
 * client; the provider's idempotency key is derived from the order, so concurrent or repeated
 * calls get the same payment.
 */
export async function startCardPayment(deps: PaymentsDeps, buyerId: string, orderId: string): Promise<PaymentIntentView> {
  try {
    return await startPayment(deps, buyerId, orderId);
  } catch (error) {
    throw toAppError(deps, error);
  }
}

/**
 * The provider's outage is not the buyer's fault nor a bug: 503 with Retry-After. A refused API
 * key is ours to fix, so it is also logged as an error for the operator (never shown to the buyer).
 */
function toAppError(deps: PaymentsDeps, error: unknown): unknown {
  if (error instanceof PaymentDeclined) {
    return new AppError(402, 'card_declined', 'The card was declined', error.declineCode ? { declineCode: error.declineCode } : undefined);
  }
  if (!(error instanceof PaymentProviderUnavailable)) return error;
  if (error.reason === 'misconfigured') {
    deps.logger.error(
      `[PAYMENTS] ${error.provider} refused our credentials (${error.detail}): check the provider's secret key configuration`,
    );
  } else {
    deps.logger.warn(`[PAYMENTS] ${error.provider} unavailable (${error.reason}): ${error.detail}`);
  }
  return serviceUnavailable(
    'payment_provider_unavailable',
    'The payment provider is temporarily unavailable; try again shortly',
    error.retryAfterSeconds,
  );
}

async function startPayment(deps: PaymentsDeps, buyerId: string, orderId: string): Promise<PaymentIntentView> {
  if (!deps.provider) throw notConfigured(deps);
  const order = await findPayableOrder(deps.database.db, buyerId, orderId);
  let payment = order.paymentReference ? await deps.provider.findPayment(order.paymentReference) : undefined;
  if (!payment) {
    payment = await deps.provider.createPayment(order);
    await recordPaymentReference(deps.database.db, order.id, payment.reference);
  }
  if (!payment.clientSecret) throw new AppError(502, 'payment_provider_error', `${deps.provider.name} returned no client secret`);
  return { paymentIntentId: payment.reference, clientSecret: payment.clientSecret, publishableKey: deps.publishableKey ?? null };
}

/** Verifies a webhook delivery (400 when it does not); 503 when no provider is configured. */
export function verifyWebhook(deps: PaymentsDeps, raw: Buffer | undefined, header: (name: string) => string | undefined): ProviderEvent {
  if (!deps.provider) throw notConfigured(deps);
  return deps.provider.verifyWebhook(raw, header);
}

/**
 * Processes an event exactly once: its id is inserted in the same transaction as its effects.
 * A concurrent redelivery blocks on that primary key until the first commits, then finds it and
 * does nothing; if the first fails, its insert rolls back with it and the retry processes.
 */
export async function processProviderEvent(deps: PaymentsDeps, event: ProviderEvent): Promise<{ duplicate: boolean; outcome?: string }> {
  const result = await deps.database.transaction(async (unit) => {
    if (!(await recordProviderEvent(unit.tx, { id: event.id, type: event.type, payload: event.payload }))) return { duplicate: true };
    const outcome = event.update ? await deps.applyUpdate(unit, event.update) : 'ignored';
    await finishProviderEvent(unit.tx, event.id, outcome);
    return { duplicate: false, outcome };
  });
  if (!result.duplicate) deps.logger.info(`[PAYMENTS] ${deps.provider?.name} ${event.type} ${event.id}: ${result.outcome}`);
  if (result.outcome === ENDED_BY_FAILED_PAYMENT && event.update?.kind === 'failed' && event.update.reason === 'declined')
    await cancelEndedPayment(deps, event.update.reference);
  return result;
}

/**
 * A declined payment may still be retried with another card, but its order has ended and its
 * stock is back on sale: the payment is cancelled so the buyer cannot be charged for it. Best
 * effort after the commit: if the provider does not answer, a later success still lands the
 * order in review (order-state.ts), and a redelivery of the event is a duplicate.
 */
async function cancelEndedPayment(deps: PaymentsDeps, reference: string): Promise<void> {
  try {
    await deps.provider?.cancelPayment(reference);
    deps.logger.info(`[PAYMENTS] Cancelled ${deps.provider?.name} payment ${reference}: its order ended on a failed payment`);
  } catch (error) {
    const reason = error instanceof PaymentProviderUnavailable ? error.reason : error instanceof Error ? error.name : 'unknown';
    deps.logger.warn(`[PAYMENTS] Could not cancel ${deps.provider?.name} payment ${reference} (${reason}); a late success goes to review`);
  }
}
