import { eq, sql } from 'drizzle-orm';
import { btcpayEvents, stripeEvents } from '../../../shared/schema/payments';
import type { DbOrTx } from '../../db';

/** Records a provider event id; false when it was already recorded (a redelivery). */
export async function recordProviderEvent(tx: DbOrTx, event: { id: string; type: string; payload: unknown }): Promise<boolean> {
  const rows = await tx
    .insert(stripeEvents)
    .values(event)
    .onConflictDoNothing({ target: stripeEvents.id })
    .returning({ id: stripeEvents.id });
  return rows.length > 0;
}

export async function finishProviderEvent(tx: DbOrTx, id: string, outcome: string): Promise<void> {
  await tx.update(stripeEvents).set({ processedAt: sql`now()`, outcome }).where(eq(stripeEvents.id, id));
}

/** Records a BTCPay event by its key (the first delivery's id); false when it was already recorded. */
export async function recordBtcpayEvent(
  tx: DbOrTx,
  event: { id: string; type: string; invoiceId: string; payload: unknown },
): Promise<boolean> {
  const rows = await tx
    .insert(btcpayEvents)
    .values(event)
    .onConflictDoNothing({ target: btcpayEvents.id })
    .returning({ id: btcpayEvents.id });
  return rows.length > 0;
}

export async function finishBtcpayEvent(tx: DbOrTx, id: string, outcome: string): Promise<void> {
  await tx.update(btcpayEvents).set({ processedAt: sql`now()`, outcome }).where(eq(btcpayEvents.id, id));
}
