import type { SQL } from 'drizzle-orm';
import type {
  CategoryList,
  CreateProductBody,
  CreateVendorBody,
  ProductPage,
  ProductView,
  UpdateProductBody,
  VendorView,
} from '../../../shared/contracts';
import { isUniqueViolation, type UnitOfWork } from '../../db';
import { AppError, conflict, forbidden, notFound } from '../../lib/errors';
import { grantRole, requireVerifiedEmail, type Role } from '../auth';
import {
  countProductsByCategory,
  findProduct,
  findVendorByUserId,
  insertProduct,
  insertVendor,
  listProducts,
  type ProductFilters,
  type ProductRow,
  returnStock,
  softDeleteProduct,
  type StockTaken,
  type ReservationRow,
  readReservation,
  reservationCtes,
  updateProduct,
} from './catalogue.repository';
import { decodeCursor, encodeCursor } from './product-cursor';
import type { CatalogueDeps } from './catalogue-deps';
import { checkImages, publicObjectUrl } from './public-images';
import type { CacheInvalidation, ProductFacet } from './response-cache';
import { lockVendorForWrite } from './stores.repository';
import { activeVendorOf, toVendorView, vendorSuspended } from './stores.service';

export type { CatalogueDeps } from './catalogue-deps';

export function toProductView(row: ProductRow, imageBaseUrl: string): ProductView {
  return {
    id: row.id,
    vendorId: row.vendorId,
    title: row.title,
    description: row.description,
    priceCents: row.priceCents,
    currency: row.currency,
    stock: row.stock,
    category: row.category,
    imageKeys: row.imageKeys,
    imageUrls: row.imageKeys.map((key) => publicObjectUrl(imageBaseUrl, key)),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

const facetOf = (row: ProductRow): ProductFacet => ({ vendorId: row.vendorId, category: row.category, priceCents: row.priceCents });

/**
 * Opens a store: the store row and the role change (asked of auth) commit together. Returns the
 * role the user now has (a buyer becomes a vendor; an admin stays an admin).
 */
export async function becomeVendor(
  deps: CatalogueDeps,
  userId: string,
  body: CreateVendorBody,
): Promise<{ vendor: VendorView; role: Role }> {
  try {
    const { vendor, role } = await deps.database.transaction(async (unit) => {
      await requireVerifiedEmail(unit, userId);
      const vendor = await insertVendor(unit.tx, { userId, ...body });
      // Every instance's store lists show the new store once this commits.
      await deps.invalidate(unit, [{ kind: 'store', vendorId: vendor.id, products: false }]);
      return { vendor, role: await grantRole(unit, userId, 'vendor') };
    });
    return { vendor: toVendorView({ ...vendor, productCount: 0 }, deps.imageBaseUrl), role };
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict('already_vendor', 'You already have a store');
    throw error;
  }
}

/**
 * The product, if the signed-in user's store owns it: 404 when it does not exist (or is a
 * suspended store's, to anyone else), 403 `not_owner` when it is someone else's,
 * `vendor_suspended` when the user's own store is suspended.
 */
async function ownedProduct(deps: CatalogueDeps, userId: string, productId: string): Promise<ProductRow> {
  const product = await findProduct(deps.database.db, productId, 'include');
  if (!product) throw notFound('Product');
  const vendor = await findVendorByUserId(deps.database.db, userId);
  if (vendor?.id !== product.vendorId) {
    if (product.vendorSuspendedAt) throw notFound('Product');
    throw forbidden('Only the store that lists this product may change it', 'not_owner');
  }
  if (vendor.suspendedAt) throw vendorSuspended();
  return product;
}

/** Why a write to a product found nothing to change: it went, or its store was suspended meanwhile. */
async function productWriteRefused(unit: UnitOfWork, productId: string): Promise<AppError> {
  const product = await findProduct(unit.tx, productId, 'include');
  return product?.vendorSuspendedAt ? vendorSuspended() : notFound('Product');
}

export async function createProduct(deps: CatalogueDeps, userId: string, body: CreateProductBody): Promise<ProductView> {
  const vendor = await activeVendorOf(deps, userId);
  await checkImages(deps, body.imageKeys);
  const row = await deps.database.transaction(async (unit) => {
    // Under the store's lock: a suspension either waits for this product (and suspends it) or refuses it here.
    if ((await lockVendorForWrite(unit.tx, vendor.id))?.suspendedAt) throw vendorSuspended();
    const row = await insertProduct(unit.tx, { ...body, vendorId: vendor.id });
    await deps.invalidate(unit, [
      { kind: 'product', productId: row.id, facets: [facetOf(row)] },
      { kind: 'vendor', vendorId: vendor.id },
    ]);
    return row;
  });
  return toProductView(row, deps.imageBaseUrl);
}

export async function changeProduct(deps: CatalogueDeps, userId: string, productId: string, body: UpdateProductBody): Promise<ProductView> {
  const before = await ownedProduct(deps, userId, productId);
  await checkImages(deps, body.imageKeys);
  const after = await deps.database.transaction(async (unit) => {
    const after = await updateProduct(unit.tx, productId, body);
    if (!after) throw await productWriteRefused(unit, productId);
    await deps.invalidate(unit, [{ kind: 'product', productId, facets: [facetOf(before), facetOf(after)] }]);
    return after;
  });
  return toProductView(after, deps.imageBaseUrl);
}

export async function removeProduct(deps: CatalogueDeps, userId: string, productId: string): Promise<void> {
  await ownedProduct(deps, userId, productId);
  await deps.database.transaction(async (unit) => {
    const removed = await softDeleteProduct(unit.tx, productId);
    if (!removed) throw await productWriteRefused(unit, productId);
    await deps.invalidate(unit, [
      { kind: 'product', productId, facets: [facetOf(removed)] },
      { kind: 'vendor', vendorId: removed.vendorId },
    ]);
  });
}

export interface StockLine {
  productId: string;
  quantity: number;
}

export type ReservedLine = StockTaken & { quantity: number };

/** One line per product (quantities of repeated lines added), in id order so lock order is global. */
function mergeLines(lines: readonly StockLine[]): StockLine[] {
  const byProduct = new Map<string, number>();
  for (const line of lines) byProduct.set(line.productId, (byProduct.get(line.productId) ?? 0) + line.quantity);
  return [...byProduct.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([productId, quantity]) => ({ productId, quantity }));
}

/** A reservation to run inside the caller's statement (reservationCtes), and how to read its outcome. */
export interface StockReservationPlan {
  /** CTEs ending in `reservation` (one row per product, in `position` order); see reservationCtes. */
  ctes: SQL;
  /**
   * The lines taken, read from the `reservation` rows; a line short of stock or a missing product
   * throws (409 `insufficient_stock`, 404 `product_not_found`), which rolls the caller's whole
   * unit of work back (all-or-nothing), the broadcast with it.
   */
  settle(rows: readonly ReservationRow[]): ReservedLine[];
}

/**
 * Plans the reservation of every line's units inside the caller's unit of work (an order being
 * placed): the caller sends it in its own statement, which also tells the other instances' caches.
 */
export function planStockReservation(deps: CatalogueDeps, unit: UnitOfWork, lines: readonly StockLine[]): StockReservationPlan {
  const merged = mergeLines(lines);
  const broadcast = deps.invalidateWithin(unit, stockInvalidations(merged.map((l) => l.productId)));
  return {
    ctes: reservationCtes(merged, broadcast),
    settle(rows) {
      const reserved: ReservedLine[] = [];
      for (const [i, reservation] of readReservation(rows).entries()) {
        const { productId, quantity } = merged[i]!;
        if (!reservation.taken) {
          if (reservation.available === undefined)
            throw new AppError(404, 'product_not_found', `Product ${productId} does not exist`, { productId });
          throw conflict('insufficient_stock', `Only ${reservation.available} left of product ${productId}`, {
            productId,
            requested: quantity,
            available: reservation.available,
          });
        }
        reserved.push({ ...reservation.taken, quantity });
      }
      return reserved;
    },
  };
}

/** Puts reserved units back (a cancelled or expired order) inside the caller's unit of work. */
export async function releaseStock(deps: CatalogueDeps, unit: UnitOfWork, lines: readonly StockLine[]): Promise<void> {
  const changed = await returnStock(unit.tx, mergeLines(lines));
  await invalidateStock(deps, unit, changed);
}

// Stock or state changed, not the list facets: lists holding the product and its detail go.
function stockInvalidations(productIds: readonly string[]): CacheInvalidation[] {
  return [...new Set(productIds)].map((productId) => ({ kind: 'product', productId, facets: [] }));
}

async function invalidateStock(deps: CatalogueDeps, unit: UnitOfWork, productIds: readonly string[]): Promise<void> {
  await deps.invalidate(unit, stockInvalidations(productIds));
}

export async function getProduct(deps: CatalogueDeps, id: string): Promise<ProductView> {
  const product = await findProduct(deps.database.db, id);
  if (!product) throw notFound('Product');
  return toProductView(product, deps.imageBaseUrl);
}

export async function browseProducts(
  deps: CatalogueDeps,
  filters: ProductFilters,
  cursor?: string,
): Promise<ProductPage & { ids: string[] }> {
  if (filters.minPrice !== undefined && filters.maxPrice !== undefined && filters.minPrice > filters.maxPrice) {
    throw new AppError(400, 'validation_failed', 'minPrice must not exceed maxPrice', {
      issues: [{ location: 'query', path: ['minPrice'], code: 'too_big', message: 'must not exceed maxPrice' }],
    });
  }
  const after = cursor ? decodeCursor(cursor, filters.sort) : undefined;
  const { rows, more } = await listProducts(deps.database.db, filters, after);
  const last = rows.at(-1);
  return {
    items: rows.map((row) => toProductView(row, deps.imageBaseUrl)),
    nextCursor: more && last ? encodeCursor({ sort: filters.sort, value: last.sortKey, id: last.id }) : null,
    ids: rows.map((r) => r.id),
  };
}

export async function listCategories(deps: CatalogueDeps): Promise<CategoryList> {
  return { categories: await countProductsByCategory(deps.database.db) };
}
