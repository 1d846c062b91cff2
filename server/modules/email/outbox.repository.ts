import { count, eq, sql } from 'drizzle-orm';
import { emailOutbox } from '../../../shared/schema/email';
import type { DbOrTx } from '../../db';

export type OutboxRow = typeof emailOutbox.$inferSelect;

export interface OutgoingEmail {
  kind: string;
  /** Same key, same mail: enqueueing twice (a redelivered event) still sends one. */
  dedupeKey: string;
  toEmail: string;
  toName?: string | null;
  subject: string;
  html: string;
  text: string;
}

/** The new row's id, or undefined when a mail with this dedupe key already exists. */
export async function insertOutboxEmail(db: DbOrTx, mail: OutgoingEmail): Promise<string | undefined> {
  const rows = await db
    .insert(emailOutbox)
    .values(mail)
    .onConflictDoNothing({ target: emailOutbox.dedupeKey })
    .returning({ id: emailOutbox.id });
  return rows[0]?.id;
}

export async function findOutboxEmail(db: DbOrTx, id: string): Promise<OutboxRow | undefined> {
  const [row] = await db.select().from(emailOutbox).where(eq(emailOutbox.id, id));
  return row;
}

/** Counted before the provider is called, so the record never shows fewer attempts than the provider saw. */
export async function countAttempt(db: DbOrTx, id: string): Promise<number> {
  const [row] = await db
    .update(emailOutbox)
    .set({ attempts: sql`${emailOutbox.attempts} + 1`, lastAttemptAt: sql`now()` })
    .where(eq(emailOutbox.id, id))
    .returning({ attempts: emailOutbox.attempts });
  return row?.attempts ?? 0;
}

export async function recordAttemptError(db: DbOrTx, id: string, error: string): Promise<void> {
  await db
    .update(emailOutbox)
    .set({ lastError: error.slice(0, 500) })
    .where(eq(emailOutbox.id, id));
}

export async function markSent(db: DbOrTx, id: string, providerMessageId: string | undefined): Promise<void> {
  await db
    .update(emailOutbox)
    .set({ status: 'sent', sentAt: sql`now()`, providerMessageId: providerMessageId ?? null, lastError: null })
    .where(eq(emailOutbox.id, id));
}

export async function markFailed(db: DbOrTx, id: string, reason: string): Promise<void> {
  await db
    .update(emailOutbox)
    .set({ status: 'failed', lastError: reason.slice(0, 500) })
    .where(eq(emailOutbox.id, id));
}

/** Puts every given-up mail back to pending (its attempts and last error stay as the record); returns their ids. */
export async function reopenFailedEmails(db: DbOrTx): Promise<string[]> {
  const rows = await db
    .update(emailOutbox)
    .set({ status: 'pending', lastAttemptAt: sql`now()` })
    .where(eq(emailOutbox.status, 'failed'))
    .returning({ id: emailOutbox.id });
  return rows.map((r) => r.id);
}

export async function countByStatus(db: DbOrTx, status: OutboxRow['status']): Promise<number> {
  const [row] = await db.select({ n: count() }).from(emailOutbox).where(eq(emailOutbox.status, status));
  return row?.n ?? 0;
}
