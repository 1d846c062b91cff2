import type { SQL } from 'drizzle-orm';
import type {
  CreateProductBody,
  CreateVendorBody,
  ProductPage,
  ProductView,
  UpdateProductBody,
  VendorView,
} from '../../../shared/contracts';
import { type Database, isUniqueViolation, type UnitOfWork } from '../../db';
import { AppError, badRequest, conflict, forbidden, notFound } from '../../lib/errors';
import { grantRole, requireVerifiedEmail, type Role } from '../auth';
import {
  type Broadcast,
  findProduct,
  findVendorById,
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
  type VendorRow,
} from './catalogue.repository';
import { decodeCursor, encodeCursor } from './product-cursor';
import type { CacheInvalidation, ProductFacet, ResponseCache } from './response-cache';

export interface CatalogueDeps {
  database: Database;
  cache: ResponseCache;
  /** Image URLs are built on it (config PUBLIC_BASE_URL): clients on other origins and CDNs need absolute ones. */
  imageBaseUrl: string;
  /**
   * Records, inside the unit of work, that cached answers must go: other instances hear it
   * when (and only if) the transaction commits; this one drops them right after COMMIT.
   */
  invalidate(unit: UnitOfWork, invalidations: readonly CacheInvalidation[]): Promise<void>;
  /**
   * The same for a caller that sends the broadcast inside its own statement (a round trip
   * fewer): schedules this instance's drop after COMMIT and returns the NOTIFY to send.
   */
  invalidateWithin(unit: UnitOfWork, invalidations: readonly CacheInvalidation[]): Broadcast;
  /** Whether an uploaded public image exists (the objects capability answers); absent = not checked. */
  imageExists?: (key: string) => Promise<boolean>;
}

/** `imageBaseUrl`: the public base URL (config PUBLIC_BASE_URL, no trailing slash); image URLs are absolute on it. */
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
    imageUrls: row.imageKeys.map((key) => `${imageBaseUrl}/objects/${key}`),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function toVendorView(row: VendorRow & { productCount: number }): VendorView {
  return {
    id: row.id,
    userId: row.userId,
    storeName: row.storeName,
    description: row.description,
    productCount: row.productCount,
    createdAt: row.createdAt.toISOString(),
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
      return { vendor, role: await grantRole(unit, userId, 'vendor') };
    });
    return { vendor: toVendorView({ ...vendor, productCount: 0 }), role };
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict('already_vendor', 'You already have a store');
    throw error;
  }
}

export async function getVendor(deps: CatalogueDeps, id: string): Promise<VendorView> {
  const vendor = await findVendorById(deps.database.db, id);
  if (!vendor) throw notFound('Vendor');
  return toVendorView(vendor);
}

async function vendorOf(deps: CatalogueDeps, userId: string): Promise<VendorRow> {
  const vendor = await findVendorByUserId(deps.database.db, userId);
  if (!vendor) throw forbidden('Open a store first (POST /api/vendors)', 'not_a_vendor');
  return vendor;
}

async function checkImages(deps: CatalogueDeps, keys: string[] | undefined): Promise<void> {
  if (!keys || !deps.imageExists) return;
  const missing: string[] = [];
  for (const key of keys) if (!(await deps.imageExists(key))) missing.push(key);
  if (missing.length > 0) throw badRequest('unknown_image', 'Some image keys do not name an uploaded public object', { missing });
}

/** The product, if the signed-in user's store owns it: 404 when it does not exist, 403 when it is someone else's. */
async function ownedProduct(deps: CatalogueDeps, userId: string, productId: string): Promise<ProductRow> {
  const product = await findProduct(deps.database.db, productId);
  if (!product) throw notFound('Product');
  const vendor = await findVendorByUserId(deps.database.db, userId);
  if (vendor?.id !== product.vendorId) throw forbidden('Only the store that lists this product may change it', 'not_owner');
  return product;
}

export async function createProduct(deps: CatalogueDeps, userId: string, body: CreateProductBody): Promise<ProductView> {
  const vendor = await vendorOf(deps, userId);
  await checkImages(deps, body.imageKeys);
  const row = await deps.database.transaction(async (unit) => {
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
    if (!after) throw notFound('Product');
    await deps.invalidate(unit, [{ kind: 'product', productId, facets: [facetOf(before), facetOf(after)] }]);
    return after;
  });
  return toProductView(after, deps.imageBaseUrl);
}

export async function removeProduct(deps: CatalogueDeps, userId: string, productId: string): Promise<void> {
  await ownedProduct(deps, userId, productId);
  await deps.database.transaction(async (unit) => {
    const removed = await softDeleteProduct(unit.tx, productId);
    if (!removed) throw notFound('Product');
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
