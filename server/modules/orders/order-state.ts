import type { orderStatuses } from '../../../shared/enums';

export type OrderStatus = (typeof orderStatuses)[number];

/** Everything that may happen to an order, whoever reports it (buyer, expiry job, payment provider). */
export type OrderEvent =
  | 'cancel'
  | 'expire'
  | 'payment_succeeded'
  | 'payment_mismatched'
  | 'payment_failed'
  | 'partially_refunded'
  | 'refunded'
  // Fulfilment, reported by a vendor for its own lines (each vendor's part moves through the same rows).
  | 'start_processing'
  | 'ship'
  | 'deliver'
  // An admin settles an order held for review: the money is kept and the order is sold.
  | 'accept_review';

/*
 * The one table of allowed transitions. An event missing from a status's row is not allowed
 * there: the route answers 409, the job skips the order, a webhook verdict changes nothing.
 * Providers deliver events in any order and more than once, so no row ever leads backwards:
 * once refunded an order stays refunded whatever arrives after; a failure after a success
 * changes nothing; a success after a failure (its stock was released) goes to review. A
 * partial refund keeps the order `paid` (the rest is still sold and must be delivered); orders
 * records the refunded running total next to it.
 */
const transitions: Record<OrderStatus, Partial<Record<OrderEvent, OrderStatus>>> = {
  pending: {
    cancel: 'cancelled',
    expire: 'expired',
    payment_succeeded: 'paid',
    payment_mismatched: 'review',
    // A failed (or cancelled) payment ends the order and releases its stock at once: an unpaid
    // reservation is not left holding stock for the rest of its hold time. The buyer orders again.
    payment_failed: 'failed',
    // A refund may overtake its payment's success event: the money came and (partly) went back.
    partially_refunded: 'pending',
    refunded: 'refunded',
  },
  paid: {
    payment_succeeded: 'paid',
    payment_failed: 'paid',
    partially_refunded: 'paid',
    refunded: 'refunded',
    start_processing: 'processing',
  },
  // Fulfilment only moves forward; late payment events change nothing, a full refund still ends it.
  processing: {
    payment_succeeded: 'processing',
    payment_failed: 'processing',
    partially_refunded: 'processing',
    refunded: 'refunded',
    ship: 'shipped',
  },
  shipped: {
    payment_succeeded: 'shipped',
    payment_failed: 'shipped',
    partially_refunded: 'shipped',
    refunded: 'refunded',
    deliver: 'delivered',
  },
  delivered: { payment_succeeded: 'delivered', payment_failed: 'delivered', partially_refunded: 'delivered', refunded: 'refunded' },
  // Money arrived for an order whose stock was already released: a human decides.
  expired: { payment_succeeded: 'review', payment_mismatched: 'review', partially_refunded: 'expired', refunded: 'refunded' },
  cancelled: { payment_succeeded: 'review', payment_mismatched: 'review', partially_refunded: 'cancelled', refunded: 'refunded' },
  failed: {
    payment_succeeded: 'review',
    payment_mismatched: 'review',
    payment_failed: 'failed',
    partially_refunded: 'failed',
    refunded: 'refunded',
  },
  review: {
    accept_review: 'paid',
    payment_succeeded: 'review',
    payment_mismatched: 'review',
    payment_failed: 'review',
    partially_refunded: 'review',
    refunded: 'refunded',
  },
  refunded: {
    payment_succeeded: 'refunded',
    payment_mismatched: 'refunded',
    payment_failed: 'refunded',
    partially_refunded: 'refunded',
    refunded: 'refunded',
  },
};

/*
 * How far fulfilment has come, for an order with several vendors: the order shows the least
 * advanced of its vendors' parts (one vendor shipped, another still processing → processing).
 */
const fulfilmentRank: Partial<Record<OrderStatus, number>> = { paid: 0, processing: 1, shipped: 2, delivered: 3 };

/** The order's status given each vendor's fulfilment status (all in paid…delivered). */
export function leastAdvanced(statuses: readonly OrderStatus[]): OrderStatus {
  return statuses.reduce((least, s) => ((fulfilmentRank[s] ?? 0) < (fulfilmentRank[least] ?? 0) ? s : least));
}

/*
 * A full refund puts the order's stock back while the order still holds it and its goods have
 * not left: pending, paid, processing. Shipped and delivered goods are with the buyer; expired,
 * cancelled, failed and review orders gave theirs back already.
 */
const holdingUnshippedStock: readonly OrderStatus[] = ['pending', 'paid', 'processing'];

/** Whether refunding an order in `status` releases its stock (the webhook and the admin's refund alike). */
export function refundReleasesStock(status: OrderStatus): boolean {
  return holdingUnshippedStock.includes(status);
}

/** The status `event` leads to from `status`, or undefined when the table does not allow it. */
export function nextStatus(status: OrderStatus, event: OrderEvent): OrderStatus | undefined {
  return transitions[status][event];
}

/** The statuses from which `event` leads to `to`: what a set-based update (cancel, expiry) may match. */
export function statusesLeadingTo(event: OrderEvent, to: OrderStatus): OrderStatus[] {
  return (Object.keys(transitions) as OrderStatus[]).filter((from) => from !== to && transitions[from][event] === to);
}
