import type { OwnVendorView, UpdateVendorBody, VendorPage, VendorView } from '../../../shared/contracts';
import type { DbOrTx, UnitOfWork } from '../../db';
import { forbidden, notFound } from '../../lib/errors';
import type { CatalogueDeps } from './catalogue-deps';
import { findVendorByUserId, type VendorRow } from './catalogue.repository';
import { checkImages, publicObjectUrl } from './public-images';
import {
  findListedVendor,
  findVendorWithCount,
  listVendors,
  setVendorSuspension,
  updateVendorOfUser,
  type VendorListFilters,
  type VendorWithCount,
} from './stores.repository';
import { decodeVendorCursor, encodeVendorCursor } from './vendor-cursor';

/*
 * Stores as others see them (page, list), as their vendor keeps them (its own store), and their
 * standing (suspension, for the admin module). Opening a store stays in catalogue.service.ts.
 */

/** `imageBaseUrl` may be left out only for a store without a logo (one just opened). */
export function toVendorView(row: VendorWithCount, imageBaseUrl?: string): VendorView {
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

/** A store anyone may see: a suspended one is 404 like a missing one. */
export async function getVendor(deps: CatalogueDeps, id: string): Promise<VendorView> {
  const vendor = await findListedVendor(deps.database.db, id);
  if (!vendor) throw notFound('Vendor');
  return toVendorView(vendor, deps.imageBaseUrl);
}

export const notAVendor = () => forbidden('Open a store first (POST /api/vendors)', 'not_a_vendor');
export const vendorSuspended = () => forbidden('This store is suspended: it cannot change its store or its products', 'vendor_suspended');

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
export async function activeVendorOf(deps: CatalogueDeps, userId: string): Promise<VendorRow> {
  const vendor = await findVendorByUserId(deps.database.db, userId);
  if (!vendor) throw notAVendor();
  if (vendor.suspendedAt) throw vendorSuspended();
  return vendor;
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
