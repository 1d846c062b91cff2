import { and, eq, gt, isNull } from 'drizzle-orm';
import { accountTokens } from '../../../shared/schema/auth';
import type { DbOrTx } from '../../db';

export type AccountTokenPurpose = (typeof accountTokens.$inferSelect)['purpose'];

export async function insertAccountToken(
  db: DbOrTx,
  values: { tokenHash: string; userId: string; purpose: AccountTokenPurpose; expiresAt: Date; createdAt: Date },
): Promise<void> {
  await db.insert(accountTokens).values(values);
}

/** Retires a user's unused tokens of one purpose (a newer link replaces them): they count as used from `at`. */
export async function retireUnusedTokens(db: DbOrTx, userId: string, purpose: AccountTokenPurpose, at: Date): Promise<void> {
  await db
    .update(accountTokens)
    .set({ usedAt: at })
    .where(and(eq(accountTokens.userId, userId), eq(accountTokens.purpose, purpose), isNull(accountTokens.usedAt)));
}

/**
 * Uses a token: marks it used if it exists for this purpose, is unused and unexpired at `at`, in
 * one statement (two concurrent uses cannot both succeed). Returns its user, or undefined.
 */
export async function consumeAccountToken(
  db: DbOrTx,
  tokenHash: string,
  purpose: AccountTokenPurpose,
  at: Date,
): Promise<string | undefined> {
  const [row] = await db
    .update(accountTokens)
    .set({ usedAt: at })
    .where(
      and(
        eq(accountTokens.tokenHash, tokenHash),
        eq(accountTokens.purpose, purpose),
        isNull(accountTokens.usedAt),
        gt(accountTokens.expiresAt, at),
      ),
    )
    .returning({ userId: accountTokens.userId });
  return row?.userId;
}
