// Owned by the objects module: one row per stored upload (who stored it, how big), for quotas and the orphan sweep.
import { bigint, index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { users } from './auth';
import { createdAt, tstz } from './columns';

export const storedObjects = pgTable(
  'objects',
  {
    // What other resources store (`public/<name>` or `private/<name>`).
    key: text('key').primaryKey(),
    // Where the bytes are, as written (search paths may be reconfigured later).
    bucket: text('bucket').notNull(),
    name: text('name').notNull(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => users.id),
    size: bigint('size', { mode: 'number' }).notNull(),
    createdAt: createdAt(),
    // When the orphan sweep last found it referenced; rechecked once per grace period.
    checkedAt: tstz('checked_at'),
  },
  (t) => [index('objects_owner_id_idx').on(t.ownerId), index('objects_created_at_idx').on(t.createdAt)],
);
