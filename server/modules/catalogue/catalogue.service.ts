import type { SQL } from 'drizzle-orm';
import type {
  CategoryList,
  CreateProductBody,
  CreateVendorBody,
  OwnVendorView,
  ProductPage,
  ProductView,
  UpdateProductBody,
  UpdateVendorBody,
  VendorPage,
  VendorView,
} from '../../../shared/contracts';
import { type Database, type DbOrTx, isUniqueViolation, type UnitOfWork } from '../../db';
import { AppError, badRequest, conflict, forbidden, notFound } from '../../lib/errors';
import { grantRole, type Role } from '../auth';
import {
  type Broadcast,
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
  type VendorRow,
} from './catalogue.repository';
import { decodeCursor, encodeCursor } from './product-cursor';
import {
  findListedVendor,
  findVendorWithCount,
  listVendors,
  lockVendorForWrite,
  setVendorSuspension,
  updateVendorOfUser,
  type VendorListFilters,
  type VendorWithCount,
} from './stores.repository';
import { decodeVendorCursor, encodeVendorCursor } from './vendor-cursor';
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

/** `imageBaseUrl`: the public base URL (config PUBLIC_BASE_URL, no trailing slash); object URLs are absolute on it. */
const publicObjectUrl = (imageBaseUrl: string, key: string) => `${imageBaseUrl}/objects/${key}`;

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

/** `imageBaseUrl` may be left out only for a store without a logo (one just opened). */
function toVendorView(row: VendorWithCount, imageBaseUrl?: string): VendorView {
  return {
    id: row.id,
    userId: row.userId,
    storeName: row.storeName,
    description: row.description,
    productCount: row.productCount,
    logoKey: row.logoKey,
    logoUrl: row.logoKey === null ? null : publicObjectUrl(imageBaseUrl ?? '', row.logoKey),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function toOwnVendorView(row: VendorWithCount, imageBaseUrl: string): OwnVendorView {
  return { ...toVendorView(row, imageBaseUrl), suspendedAt: row.suspendedAt?.toISOString() ?? null };
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
      const vendor = await insertVendor(unit.tx, { userId, ...body });
      return { vendor, role: await grantRole(unit, userId, 'vendor') };
    });
    return { vendor: toVendorView({ ...vendor, productCount: 0 }), role };
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict('already_vendor', 'You already have a store');
    throw error;
  }
}

/**
 * Tells every instance that a store was opened (the store list shows it). A unit of work of its
 * own, after the store's: it belongs in becomeVendor's transaction (a crash between the two leaves
 * the store lists stale for up to CACHE_TTL_SECONDS).
 */
export async function announceNewStore(deps: CatalogueDeps, vendorId: string): Promise<void> {
  await deps.database.transaction((unit) => deps.invalidate(unit, [{ kind: 'store', vendorId, products: false }]));
}

/** A store anyone may see: a suspended one is 404 like a missing one. */
export async function getVendor(deps: CatalogueDeps, id: string): Promise<VendorView> {
  const vendor = await findListedVendor(deps.database.db, id);
  if (!vendor) throw notFound('Vendor');
  return toVendorView(vendor, deps.imageBaseUrl);
}

const notAVendor = () => forbidden('Open a store first (POST /api/vendors)', 'not_a_vendor');
const vendorSuspended = () => forbidden('This store is suspended: it cannot change its store or its products', 'vendor_suspended');

/** The signed-in user's store, also while suspended (so its vendor can see why). */
export async function getOwnVendor(deps: CatalogueDeps, userId: string): Promise<OwnVendorView> {
  const vendor = await findVendorWithCount(deps.database.db, { userId });
  if (!vendor) throw notAVendor();
  return toOwnVendorView(vendor, deps.imageBaseUrl);
}

/**
 * Changes the signed-in user's store (there is no id to name another one). A logo must be an
 * uploaded public image; the store's page and the store list go from every cache (no product
 * answer shows the store's name or logo).
 */
export async function updateOwnVendor(deps: CatalogueDeps, userId: string, body: UpdateVendorBody): Promise<OwnVendorView> {
  await activeVendorOf(deps, userId);
  if (body.logoKey) await checkImages(deps, [body.logoKey]);
  const row = await deps.database.transaction(async (unit) => {
    // Not while suspended: the row is re-checked under its lock, so a suspension that committed meanwhile wins.
    const row = await updateVendorOfUser(unit.tx, userId, body);
    if (!row) throw vendorSuspended();
    await deps.invalidate(unit, [{ kind: 'store', vendorId: row.id, products: false }]);
    return row;
  });
  return toOwnVendorView(row, deps.imageBaseUrl);
}

/** The signed-in user's store, if it may write: 403 `not_a_vendor` without one, `vendor_suspended` while suspended. */
async function activeVendorOf(deps: CatalogueDeps, userId: string): Promise<VendorRow> {
  const vendor = await findVendorByUserId(deps.database.db, userId);
  if (!vendor) throw notAVendor();
  if (vendor.suspendedAt) throw vendorSuspended();
  return vendor;
}

async function checkImages(deps: CatalogueDeps, keys: string[] | undefined): Promise<void> {
  if (!keys || !deps.imageExists) return;
  const missing: string[] = [];
  for (const key of keys) if (!(await deps.imageExists(key))) missing.push(key);
  if (missing.length > 0) throw badRequest('unknown_image', 'Some image keys do not name an uploaded public object', { missing });
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

/** `q` as the store list matches it (trimmed by the contract; matching ignores case), so equal searches share a cache entry. */
export function normaliseVendorFilters(filters: VendorListFilters): VendorListFilters {
  const q = filters.q?.toLowerCase();
  return { limit: filters.limit, ...(q ? { q } : {}) };
}

/** One page of the stores anyone may see, by name; `ids` are the stores on it (for the cache). */
export async function browseVendors(
  deps: CatalogueDeps,
  filters: VendorListFilters,
  cursor?: string,
): Promise<VendorPage & { ids: string[] }> {
  const after = cursor ? decodeVendorCursor(cursor) : undefined;
  const { rows, more } = await listVendors(deps.database.db, filters, after);
  const last = rows.at(-1);
  return {
    items: rows.map((row) => toVendorView(row, deps.imageBaseUrl)),
    nextCursor: more && last ? encodeVendorCursor({ name: last.sortKey, id: last.id }) : null,
    ids: rows.map((r) => r.id),
  };
}

export async function listCategories(deps: CatalogueDeps): Promise<CategoryList> {
  return { categories: await countProductsByCategory(deps.database.db) };
}

/** A store's standing, as an admin acting on it sees it. */
export interface VendorStanding {
  id: string;
  userId: string;
  storeName: string;
  suspendedAt: string | null;
  productCount: number;
}

const toStanding = (row: VendorWithCount): VendorStanding => ({
  id: row.id,
  userId: row.userId,
  storeName: row.storeName,
  suspendedAt: row.suspendedAt?.toISOString() ?? null,
  productCount: row.productCount,
});

export async function findVendorStanding(db: DbOrTx, vendorId: string): Promise<VendorStanding | undefined> {
  const row = await findVendorWithCount(db, { id: vendorId });
  return row && toStanding(row);
}

/**
 * Suspends (`suspended`, from `at`) or reinstates a store inside the caller's unit of work: the
 * store's row and every product's copy of it change together, and once the unit commits every
 * instance drops what could show the store or its products. Already in that standing: nothing
 * changes (an earlier suspension keeps its time). undefined: no such store.
 */
export async function setVendorSuspended(
  deps: CatalogueDeps,
  unit: UnitOfWork,
  vendorId: string,
  suspended: boolean,
  at: Date,
): Promise<{ before: VendorStanding; after: VendorStanding } | undefined> {
  // Locked first, in a statement of its own: product writes holding the store's row finish
  // before the products are updated, so none is left out.
  const row = await findVendorWithCount(unit.tx, { id: vendorId }, true);
  if (!row) return undefined;
  const before = toStanding(row);
  if ((row.suspendedAt !== null) === suspended) return { before, after: before };
  const suspendedAt = suspended ? at : null;
  await setVendorSuspension(unit.tx, vendorId, suspendedAt);
  await deps.invalidate(unit, [{ kind: 'store', vendorId, products: true }]);
  return { before, after: { ...before, suspendedAt: suspendedAt?.toISOString() ?? null } };
}
