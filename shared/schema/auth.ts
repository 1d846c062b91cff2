// Owned by the auth module (server/modules/auth): accounts and their sessions.
import { sql } from 'drizzle-orm';
import { index, json, pgTable, text, timestamp, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { userRoles } from '../enums';
import { createdAt, id } from './columns';

export const users = pgTable(
  'users',
  {
    id: id(),
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    name: text('name').notNull(),
    role: text('role', { enum: userRoles }).notNull().default('buyer'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('users_email_lower_idx').on(sql`lower(${t.email})`)],
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
