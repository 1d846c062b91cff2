import { and, count, eq, sql } from 'drizzle-orm';
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

export async function insertOutboxEmail(db: DbOrTx, mail: OutgoingEmail): Promise<boolean> {
  const rows = await db.insert(emailOutbox).values(mail).onConflictDoNothing({ target: emailOutbox.dedupeKey }).returning({ id: emailOutbox.id });
  return rows.length > 0;
}

/**
 * Claims up to `limit` due mails for this sender: the attempt is counted and the row leased
 * (pushed `leaseMs` into the future) in one statement, and SKIP LOCKED lets several instances
 * claim side by side without ever taking the same row.
 */
export async function claimDueEmails(db: DbOrTx, limit: number, leaseMs: number): Promise<OutboxRow[]> {
  const { rows } = await db.execute<Record<string, unknown>>(sql`
    UPDATE email_outbox SET attempts = attempts + 1, next_attempt_at = now() + ${leaseMs} * interval '1 millisecond'
    WHERE id IN (
      SELECT id FROM email_outbox WHERE status = 'pending' AND next_attempt_at <= now()
      ORDER BY next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
    )
    RETURNING id, kind, to_email, to_name, subject, html, text, attempts`);
  return rows.map((r) => ({
    id: r.id as string,
    kind: r.kind as string,
    toEmail: r.to_email as string,
    toName: r.to_name as string | null,
    subject: r.subject as string,
    html: r.html as string,
    text: r.text as string,
    attempts: r.attempts as number,
  })) as OutboxRow[];
}

export async function markSent(db: DbOrTx, id: string, providerMessageId: string | undefined): Promise<void> {
  await db
    .update(emailOutbox)
    .set({ status: 'sent', sentAt: sql`now()`, providerMessageId: providerMessageId ?? null, lastError: null })
    .where(eq(emailOutbox.id, id));
}

export async function scheduleRetry(db: DbOrTx, id: string, delayMs: number, error: string): Promise<void> {
  await db
    .update(emailOutbox)
    .set({ nextAttemptAt: sql`now() + ${Math.round(delayMs)} * interval '1 millisecond'`, lastError: error.slice(0, 500) })
    .where(eq(emailOutbox.id, id));
}

export async function markFailed(db: DbOrTx, id: string, error: string): Promise<void> {
  await db
    .update(emailOutbox)
    .set({ status: 'failed', lastError: error.slice(0, 500) })
    .where(eq(emailOutbox.id, id));
}

export async function countByStatus(db: DbOrTx, status: OutboxRow['status']): Promise<number> {
  const [row] = await db.select({ n: count() }).from(emailOutbox).where(and(eq(emailOutbox.status, status)));
  return row?.n ?? 0;
}
