import { and, count, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
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

/**
 * Takes a pending mail for sending until `leaseSeconds` from now, counting the attempt (before
 * the provider is called, so the record never shows fewer attempts than the provider saw).
 * Undefined when it is not pending or another worker holds it: the row lock of this one UPDATE
 * decides, so two workers can never both send it.
 */
export async function claimForSending(db: DbOrTx, id: string, leaseSeconds: number): Promise<OutboxRow | undefined> {
  const [row] = await db
    .update(emailOutbox)
    .set({
      attempts: sql`${emailOutbox.attempts} + 1`,
      lastAttemptAt: sql`now()`,
      claimedUntil: sql`now() + ${leaseSeconds} * interval '1 second'`,
    })
    .where(
      and(
        eq(emailOutbox.id, id),
        eq(emailOutbox.status, 'pending'),
        or(isNull(emailOutbox.claimedUntil), lte(emailOutbox.claimedUntil, sql`now()`)),
      ),
    )
    .returning();
  return row;
}

/**
 * Pending mails nobody has tried for `idleSeconds` and nobody holds: candidates for a fresh
 * job (their own was lost: queued before this release, archived by the queue, or never sent).
 */
export async function findIdlePendingEmails(db: DbOrTx, idleSeconds: number, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: emailOutbox.id })
    .from(emailOutbox)
    .where(
      and(
        eq(emailOutbox.status, 'pending'),
        lte(emailOutbox.lastAttemptAt, sql`now() - ${idleSeconds} * interval '1 second'`),
        or(isNull(emailOutbox.claimedUntil), lte(emailOutbox.claimedUntil, sql`now()`)),
      ),
    )
    .orderBy(emailOutbox.lastAttemptAt)
    .limit(limit);
  return rows.map((r) => r.id);
}

/** Marks mails as just handled (a fresh job was queued for them), so a sweep does not queue them again. */
export async function touchEmails(db: DbOrTx, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(emailOutbox)
    .set({ lastAttemptAt: sql`now()` })
    .where(inArray(emailOutbox.id, [...ids]));
}

export async function recordAttemptError(db: DbOrTx, id: string, error: string): Promise<void> {
  await db
    .update(emailOutbox)
    .set({ lastError: error.slice(0, 500), claimedUntil: null })
    .where(eq(emailOutbox.id, id));
}

export async function markSent(db: DbOrTx, id: string, providerMessageId: string | undefined): Promise<void> {
  await db
    .update(emailOutbox)
    .set({ status: 'sent', sentAt: sql`now()`, providerMessageId: providerMessageId ?? null, lastError: null, claimedUntil: null })
    .where(eq(emailOutbox.id, id));
}

export async function markFailed(db: DbOrTx, id: string, reason: string): Promise<void> {
  await db
    .update(emailOutbox)
    .set({ status: 'failed', lastError: reason.slice(0, 500), claimedUntil: null })
    .where(eq(emailOutbox.id, id));
}

/** Puts every given-up mail back to pending (its attempts and last error stay as the record); returns their ids. */
export async function reopenFailedEmails(db: DbOrTx): Promise<string[]> {
  const rows = await db
    .update(emailOutbox)
    .set({ status: 'pending', lastAttemptAt: sql`now()`, claimedUntil: null })
    .where(eq(emailOutbox.status, 'failed'))
    .returning({ id: emailOutbox.id });
  return rows.map((r) => r.id);
}

export async function countByStatus(db: DbOrTx, status: OutboxRow['status']): Promise<number> {
  const [row] = await db.select({ n: count() }).from(emailOutbox).where(eq(emailOutbox.status, status));
  return row?.n ?? 0;
}
