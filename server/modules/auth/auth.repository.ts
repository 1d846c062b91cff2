import { and, eq, inArray, sql } from 'drizzle-orm';
import { users } from '../../../shared/schema/auth';
import type { DbOrTx } from '../../db';

export type UserRow = typeof users.$inferSelect;

export async function findUserByEmail(db: DbOrTx, email: string): Promise<UserRow | undefined> {
  const rows = await db.select().from(users).where(sql`lower(${users.email}) = ${email.toLowerCase()}`).limit(1);
  return rows[0];
}

export async function findUserById(db: DbOrTx, id: string): Promise<UserRow | undefined> {
  const rows = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return rows[0];
}

export async function insertUser(db: DbOrTx, values: { email: string; passwordHash: string; name: string }): Promise<UserRow> {
  const [row] = await db.insert(users).values(values).returning();
  return row!;
}

/** Renames a user; undefined when the account is gone. */
export async function updateUserName(db: DbOrTx, id: string, name: string): Promise<UserRow | undefined> {
  const [row] = await db.update(users).set({ name }).where(eq(users.id, id)).returning();
  return row;
}

/** Sets what may change of a user's standing and credentials; undefined when the account is gone. */
export async function updateUser(
  db: DbOrTx,
  id: string,
  changes: Partial<Pick<UserRow, 'passwordHash' | 'emailVerifiedAt' | 'suspendedAt' | 'role'>>,
): Promise<UserRow | undefined> {
  const [row] = await db.update(users).set(changes).where(eq(users.id, id)).returning();
  return row;
}

/** The user row locked for the rest of the caller's transaction (read-modify-write of their standing). */
export async function lockUserById(db: DbOrTx, id: string): Promise<UserRow | undefined> {
  const rows = await db.select().from(users).where(eq(users.id, id)).for('update');
  return rows[0];
}

export async function insertAdmin(
  db: DbOrTx,
  values: { email: string; passwordHash: string; name: string; emailVerifiedAt: Date },
): Promise<UserRow> {
  const [row] = await db
    .insert(users)
    .values({ ...values, role: 'admin' })
    .returning();
  return row!;
}

/** Raises a buyer to `role`; any other role (an admin opening a store) is kept. Returns the role the user has now. */
export async function raiseBuyerRole(db: DbOrTx, id: string, role: UserRow['role']): Promise<UserRow['role'] | undefined> {
  const [raised] = await db
    .update(users)
    .set({ role })
    .where(and(eq(users.id, id), eq(users.role, 'buyer')))
    .returning({ role: users.role });
  if (raised) return raised.role;
  const [current] = await db.select({ role: users.role }).from(users).where(eq(users.id, id));
  return current?.role;
}

export interface UserContact {
  id: string;
  email: string;
  name: string;
}

export async function findUserContacts(db: DbOrTx, ids: readonly string[]): Promise<UserContact[]> {
  if (ids.length === 0) return [];
  return db
    .select({ id: users.id, email: users.email, name: users.name })
    .from(users)
    .where(inArray(users.id, [...new Set(ids)]));
}

export async function countActiveSessions(db: DbOrTx): Promise<number> {
  const result = await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM session_store WHERE expire > now()`);
  return result.rows[0]?.n ?? 0;
}

/** NOTIFY channel on which every instance hears that sessions ended (payload: `{sessionId}` or `{userId}`). */
export const SESSION_ENDED_CHANNEL = 'auth_session_ended';

/**
 * Deletes one session and, in the same statement, announces it to every instance; a session
 * that was not stored (a first sign-in) announces nothing. Returns whether a row went.
 */
export async function deleteSessionAnnounced(db: DbOrTx, sid: string): Promise<boolean> {
  const result = await db.execute(sql`
    WITH gone AS (DELETE FROM session_store WHERE sid = ${sid} RETURNING sid)
    SELECT pg_notify(${SESSION_ENDED_CHANNEL}, json_build_object('sessionId', sid)::text) FROM gone`);
  return result.rows.length > 0;
}

/**
 * Deletes every session of a user and announces it, both inside the caller's transaction (so
 * the announcement goes out exactly when the cause commits). A rare operation: the scan of
 * `sess` is acceptable without an index.
 */
export async function deleteUserSessionsAnnounced(db: DbOrTx, userId: string): Promise<number> {
  const result = await db.execute(sql`DELETE FROM session_store WHERE sess->>'userId' = ${userId}`);
  await db.execute(sql`SELECT pg_notify(${SESSION_ENDED_CHANNEL}, ${JSON.stringify({ userId })})`);
  return result.rowCount ?? 0;
}

/** Expiry (ms since the epoch) of those of `sids` that are still stored and unexpired. */
export async function findLiveSessionExpiries(db: DbOrTx, sids: readonly string[]): Promise<Map<string, number>> {
  if (sids.length === 0) return new Map();
  // `expire` is a timestamp without zone written through to_timestamp(): read back the same way.
  const result = await db.execute<{ sid: string; expires_at: number }>(sql`
    SELECT sid, (extract(epoch FROM expire::timestamptz) * 1000)::float8 AS expires_at
    FROM session_store WHERE sid = ANY(${sql.param([...sids])}::text[]) AND expire > now()`);
  return new Map(result.rows.map((row) => [row.sid, Number(row.expires_at)]));
}
