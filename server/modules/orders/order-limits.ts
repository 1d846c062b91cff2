import { createHash } from 'node:crypto';
import type { PlaceOrderBody } from '../../../shared/contracts';
import type { DbOrTx } from '../../db';
import { AppError, conflict } from '../../lib/errors';
import { countOpenUnpaidOrders } from './orders.repository';

/*
 * What stops one buyer reserving a store's stock with orders they never pay: a cap on units of
 * one product per order, a cap on unpaid orders held at once, and short holds (card orders
 * expire sooner than crypto ones; a failed payment releases at once, see order-state.ts).
 */

/** How much one buyer may hold unpaid, and for how long (config: ORDER_*). */
export interface OrderLimits {
  /** Minutes an unpaid crypto order holds its stock. */
  cryptoHoldMinutes: number;
  /** Minutes an unpaid card order holds its stock. */
  cardHoldMinutes: number;
  /** Units of one product per order, repeated lines summed. */
  maxQuantityPerProduct: number;
  /** Pending orders one buyer may hold at once. */
  maxOpenUnpaid: number;
}

/** 422 when the order asks more of one product than one order may take (repeated lines summed). */
export function checkQuantities(limits: OrderLimits, body: PlaceOrderBody): void {
  const perProduct = new Map<string, number>();
  for (const item of body.items) perProduct.set(item.productId, (perProduct.get(item.productId) ?? 0) + item.quantity);
  for (const [productId, requested] of perProduct) {
    if (requested > limits.maxQuantityPerProduct)
      throw new AppError(
        422,
        'quantity_limit',
        `At most ${limits.maxQuantityPerProduct} of one product per order (${requested} asked for product ${productId})`,
        { productId, requested, limit: limits.maxQuantityPerProduct },
      );
  }
}

/** 409 when the buyer already holds as many unpaid orders as allowed (a pre-check: unlocked). */
export async function checkOpenUnpaid(limits: OrderLimits, db: DbOrTx, buyerId: string, now: Date): Promise<void> {
  const open = await countOpenUnpaidOrders(db, buyerId, now);
  if (open >= limits.maxOpenUnpaid) throw tooManyOpenOrders(limits, open);
}

export function tooManyOpenOrders(limits: OrderLimits, open: number): AppError {
  return conflict(
    'too_many_open_orders',
    `You have ${open} unpaid orders; pay or cancel one before placing another (at most ${limits.maxOpenUnpaid})`,
    { open, limit: limits.maxOpenUnpaid },
  );
}

/**
 * The advisory lock that serialises one buyer's order placements, so two concurrent orders
 * cannot both see room under the open-order cap. Derived from the buyer id (a collision only
 * makes two buyers wait for each other); nothing else takes these keys.
 */
export function buyerOrdersLock(buyerId: string): bigint {
  return createHash('sha256').update(`orders:buyer:${buyerId}`).digest().readBigInt64BE(0);
}
