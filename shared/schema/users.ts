import { sql } from 'drizzle-orm';
import { bigint, index, integer, json, pgTable, text, timestamp, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { createdAt, id } from './columns';

export const userRoles = ['buyer', 'vendor', 'admin'] as const;

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

/* rate-limiter-flexible's Postgres table (created here so instances never race to create it). */
export const rateLimits = pgTable('rate_limits', {
  key: varchar('key', { length: 255 }).primaryKey(),
  points: integer('points').notNull().default(0),
  expire: bigint('expire', { mode: 'number' }),
});
