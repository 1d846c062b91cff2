// Owned by the catalogue module: stores and their products (stock included).
import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, tstz, tsvector } from './columns';
import { users } from './auth';

export const vendors = pgTable(
  'vendors',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    storeName: text('store_name').notNull(),
    description: text('description').notNull().default(''),
    // An object key of a public image the vendor uploaded (objects module), or null.
    logoKey: text('logo_key'),
    // Set by an admin: the store and its products vanish from every listing until reinstated.
    suspendedAt: tstz('suspended_at'),
    createdAt: createdAt(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('vendors_user_id_idx').on(t.userId)],
);

export const products = pgTable(
  'products',
  {
    id: id(),
    vendorId: uuid('vendor_id')
      .notNull()
      .references(() => vendors.id),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    priceCents: integer('price_cents').notNull(),
    currency: text('currency').notNull().default('usd'),
    stock: integer('stock').notNull().default(0),
    category: text('category'),
    imageKeys: text('image_keys').array().notNull().default(sql`'{}'::text[]`),
    // Weighted so a title match ranks above a description match.
    search: tsvector('search').generatedAlwaysAs(
      sql`setweight(to_tsvector('english', coalesce(title, '')), 'A') || setweight(to_tsvector('english', coalesce(description, '')), 'B')`,
    ),
    createdAt: createdAt(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
    deletedAt: tstz('deleted_at'),
    /*
     * Copied from the vendor's `suspended_at` when it is suspended (cleared on reinstatement), so
     * listings filter on the product row itself and keep their indexes instead of joining vendors.
     */
    vendorSuspendedAt: tstz('vendor_suspended_at'),
  },
  (t) => [
    check('products_price_nonnegative', sql`${t.priceCents} >= 0`),
    check('products_stock_nonnegative', sql`${t.stock} >= 0`),
    index('products_search_idx').using('gin', t.search),
    // Keyset pagination paths; partial on live rows, since every list hides deleted products.
    index('products_newest_idx').on(t.createdAt.desc(), t.id.desc()).where(sql`deleted_at IS NULL`),
    index('products_price_idx').on(t.priceCents, t.id).where(sql`deleted_at IS NULL`),
    index('products_vendor_newest_idx').on(t.vendorId, t.createdAt.desc(), t.id.desc()).where(sql`deleted_at IS NULL`),
    index('products_category_newest_idx').on(t.category, t.createdAt.desc(), t.id.desc()).where(sql`deleted_at IS NULL`),
    index('products_category_price_idx').on(t.category, t.priceCents, t.id).where(sql`deleted_at IS NULL`),
    index('products_vendor_id_idx').on(t.vendorId),
  ],
);
