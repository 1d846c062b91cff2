import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AuditEntryView, AuditTargetType } from '../../../shared/contracts';
import { auditLog } from '../../../shared/schema/admin';
import type { DbOrTx } from '../../db';
import { decodeKeysetCursor, encodeKeysetCursor } from '../../lib/http/keyset-cursor';

export interface AuditEntry {
  actorId: string;
  action: string;
  targetType: AuditTargetType;
  targetId: string;
  before: unknown;
  after: unknown;
}

/** Written with the action it records, on the action's own transaction. */
export async function insertAuditEntry(tx: DbOrTx, entry: AuditEntry): Promise<void> {
  await tx.insert(auditLog).values({ ...entry, before: entry.before ?? null, after: entry.after ?? null });
}

/*
 * Keyset position: microseconds since the epoch as Postgres computes them (a JS Date would drop
 * the microseconds and repeat or skip entries written in one millisecond) and the id. Digits
 * and a UUID only, so a forged cursor can never make the query fail.
 */
const Cursor = z.object({ t: z.string().regex(/^\d{1,17}$/), i: z.uuid() });
const micros = sql<string>`(extract(epoch from ${auditLog.createdAt}) * 1000000)::bigint::text`;

export async function listAuditEntries(
  db: DbOrTx,
  query: { limit: number; cursor?: string; targetType?: AuditTargetType; targetId?: string },
): Promise<{ items: AuditEntryView[]; nextCursor: string | null }> {
  const conditions: SQL[] = [];
  if (query.targetType) conditions.push(eq(auditLog.targetType, query.targetType));
  if (query.targetId) conditions.push(eq(auditLog.targetId, query.targetId));
  if (query.cursor) {
    const after = decodeKeysetCursor(query.cursor, Cursor);
    conditions.push(sql`(${micros}::bigint, ${auditLog.id}) < (${after.t}::bigint, ${after.i}::uuid)`);
  }
  const rows = await db
    .select({ entry: auditLog, micros })
    .from(auditLog)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map(({ entry }) => ({
      id: entry.id,
      actorId: entry.actorId,
      action: entry.action,
      targetType: entry.targetType as AuditTargetType,
      targetId: entry.targetId,
      before: entry.before ?? null,
      after: entry.after ?? null,
      createdAt: entry.createdAt.toISOString(),
    })),
    nextCursor: rows.length > query.limit && last ? encodeKeysetCursor({ t: last.micros, i: last.entry.id }) : null,
  };
}
