import { eq, sql } from 'drizzle-orm';
import { stripeEvents } from '../../../shared/schema/payments';
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
