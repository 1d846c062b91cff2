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
