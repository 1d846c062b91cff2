import type { PaymentUpdate } from '../orders';

/**
 * What the payments module needs of a payment provider. Stripe is the one there is; a second
 * (another card processor, an on-chain watcher) implements this and gets its own webhook
 * route, and orders never changes: it only sees provider-neutral `PaymentUpdate`s.
 */
export interface PaymentProvider {
  readonly name: string;
  /**
   * Creates the payment for an order, or finds the one created before: the provider's own
   * idempotency (a key derived from the order) makes concurrent calls answer the same payment.
   */
  createPayment(order: { id: string; totalCents: number; currency: string }): Promise<ProviderPayment>;
  findPayment(reference: string): Promise<ProviderPayment>;
  /** Stops a payment from being completed later (its order ended unpaid and its stock is gone). */
  cancelPayment(reference: string): Promise<void>;
  /**
   * Refunds `amountCents` of a payment; the same `idempotencyKey` answers the same refund.
   * Throws `PaymentNotRefundable` when the provider says there is nothing (more) to refund.
   */
  refundPayment(reference: string, amountCents: number, idempotencyKey: string): Promise<{ reference: string }>;
  /**
   * Checks a webhook delivery against the exact bytes received; throws a 400
   * `invalid_signature` AppError when it does not verify.
   */
  verifyWebhook(raw: Buffer | undefined, header: (name: string) => string | undefined): ProviderEvent;
}

export interface ProviderPayment {
  reference: string;
  /** What the browser needs to confirm the payment (Stripe's client secret). */
  clientSecret: string | null;
}

export interface ProviderEvent {
  /** The provider's event id: recorded once, so a redelivery is recognised. */
  id: string;
  type: string;
  payload: unknown;
  /** What the event means for an order; undefined for events we do not act on. */
  update?: PaymentUpdate;
}

/**
 * The provider could not answer for reasons that are not the buyer's: unreachable, too slow,
 * failing (5xx), throttling us (429), or refusing our own credentials (`misconfigured`, which an
 * operator must fix). Providers throw this instead of their SDK's errors, so the service stays
 * provider-neutral.
 */
export class PaymentProviderUnavailable extends Error {
  constructor(
    readonly provider: string,
    readonly reason: 'unreachable' | 'timeout' | 'failing' | 'rate_limited' | 'misconfigured',
    /** For the operator's log only: never relayed to the buyer. */
    readonly detail: string,
    readonly retryAfterSeconds = 5,
  ) {
    super(`${provider} unavailable (${reason}): ${detail}`);
    this.name = 'PaymentProviderUnavailable';
  }
}

/** The provider declined the buyer's card (the buyer can try another one). */
export class PaymentDeclined extends Error {
  constructor(
    readonly provider: string,
    /** The provider's decline code (e.g. `insufficient_funds`), safe to show the buyer. */
    readonly declineCode: string | undefined,
  ) {
    super(`${provider} declined the card${declineCode ? ` (${declineCode})` : ''}`);
    this.name = 'PaymentDeclined';
  }
}

/** The provider refuses the refund: nothing was paid, or it is already refunded. */
export class PaymentNotRefundable extends Error {
  constructor(
    readonly provider: string,
    readonly detail: string,
  ) {
    super(`${provider} cannot refund this payment: ${detail}`);
    this.name = 'PaymentNotRefundable';
  }
}
