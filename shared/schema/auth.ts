// Owned by the auth module (server/modules/auth): accounts and their sessions.
import { sql } from 'drizzle-orm';
import { index, json, pgTable, text, timestamp, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { accountTokenPurposes, userRoles } from '../enums';
import { createdAt, id, tstz } from './columns';

export const users = pgTable(
  'users',
  {
    id: id(),
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    name: text('name').notNull(),
    role: text('role', { enum: userRoles }).notNull().default('buyer'),
    // Null until the user follows the link mailed to them; unverified users may browse and buy, not sell.
    emailVerifiedAt: tstz('email_verified_at'),
    // Set by an admin: a suspended user cannot sign in and their sessions are revoked.
    suspendedAt: tstz('suspended_at'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('users_email_lower_idx').on(sql`lower(${t.email})`)],
);

/*
 * Tokens mailed to a user (password reset, e-mail verification). Only the SHA-256 of the token
 * is stored, so a database leak gives nobody a working link; `used_at` makes each single use.
 */
export const accountTokens = pgTable(
  'account_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    purpose: text('purpose', { enum: accountTokenPurposes }).notNull(),
    expiresAt: tstz('expires_at').notNull(),
    usedAt: tstz('used_at'),
    createdAt: createdAt(),
  },
  (t) => [index('account_tokens_user_purpose_idx').on(t.userId, t.purpose), index('account_tokens_expires_at_idx').on(t.expiresAt)],
);

/*
 * connect-pg-simple's table, created by a migration instead of `createTableIfMissing`
 * (that reads table.sql at run time and races between instances). Modelled here so
 * drizzle-kit never proposes to drop it.
 */
export const sessionStore = pgTable(
  'session_store',
  {
    sid: varchar('sid').primaryKey(),
    sess: json('sess').notNull(),
    expire: timestamp('expire', { precision: 6, mode: 'date' }).notNull(),
  },
  (t) => [index('session_store_expire_idx').on(t.expire)],
);
