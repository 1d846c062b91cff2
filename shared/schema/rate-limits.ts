// Owned by server/lib/rate-limit.ts (plumbing every module uses, not a capability of its own).
import { bigint, integer, pgTable, varchar } from 'drizzle-orm/pg-core';

/* rate-limiter-flexible's Postgres table (created here so instances never race to create it). */
export const rateLimits = pgTable('rate_limits', {
  key: varchar('key', { length: 255 }).primaryKey(),
  points: integer('points').notNull().default(0),
  expire: bigint('expire', { mode: 'number' }),
});
