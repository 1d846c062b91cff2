import type { CreateProductBody, CreateVendorBody, ProductPage, ProductView, UpdateProductBody, VendorView } from '../../../shared/contracts';
import { type Db, isUniqueViolation } from '../../db';
import { AppError, badRequest, conflict, forbidden, notFound } from '../../lib/errors';
import {
  findProduct,
  findVendorById,
  findVendorByUserId,
  insertProduct,
  insertVendor,
  listProducts,
  makeUserVendor,
  type ProductFilters,
  type ProductRow,
  softDeleteProduct,
  updateProduct,
  type VendorRow,
} from './catalogue.repository';
import { decodeCursor, encodeCursor } from './product-cursor';
import type { ProductFacet, ResponseCache } from './response-cache';

export interface CatalogueDeps {
  db: Db;
  cache: ResponseCache;
  /** Whether an uploaded public image exists (the objects capability answers); absent = not checked. */
  imageExists?: (key: string) => Promise<boolean>;
}

export function toProductView(row: ProductRow): ProductView {
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
    imageUrls: row.imageKeys.map((key) => `/objects/${key}`),
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

/** Turns a user into a vendor: the store row and the role change commit together. */
export async function becomeVendor(deps: CatalogueDeps, userId: string, body: CreateVendorBody): Promise<VendorView> {
  try {
    const vendor = await deps.db.transaction(async (tx) => {
      const row = await insertVendor(tx, { userId, ...body });
      await makeUserVendor(tx, userId);
      return row;
    });
    return toVendorView({ ...vendor, productCount: 0 });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict('already_vendor', 'You already have a store');
    throw error;
  }
}

export async function getVendor(deps: CatalogueDeps, id: string): Promise<VendorView> {
  const vendor = await findVendorById(deps.db, id);
  if (!vendor) throw notFound('Vendor');
  return toVendorView(vendor);
}

async function vendorOf(deps: CatalogueDeps, userId: string): Promise<VendorRow> {
  const vendor = await findVendorByUserId(deps.db, userId);
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
  const product = await findProduct(deps.db, productId);
  if (!product) throw notFound('Product');
  const vendor = await findVendorByUserId(deps.db, userId);
  if (vendor?.id !== product.vendorId) throw forbidden('Only the store that lists this product may change it', 'not_owner');
  return product;
}

export async function createProduct(deps: CatalogueDeps, userId: string, body: CreateProductBody): Promise<ProductView> {
  const vendor = await vendorOf(deps, userId);
  await checkImages(deps, body.imageKeys);
  const row = await insertProduct(deps.db, { ...body, vendorId: vendor.id });
  deps.cache.invalidate({ kind: 'product', productId: row.id, facets: [facetOf(row)] });
  deps.cache.invalidate({ kind: 'vendor', vendorId: vendor.id });
  return toProductView(row);
}

export async function changeProduct(deps: CatalogueDeps, userId: string, productId: string, body: UpdateProductBody): Promise<ProductView> {
  const before = await ownedProduct(deps, userId, productId);
  await checkImages(deps, body.imageKeys);
  const after = await updateProduct(deps.db, productId, body);
  if (!after) throw notFound('Product');
  deps.cache.invalidate({ kind: 'product', productId, facets: [facetOf(before), facetOf(after)] });
  return toProductView(after);
}

export async function removeProduct(deps: CatalogueDeps, userId: string, productId: string): Promise<void> {
  await ownedProduct(deps, userId, productId);
  const removed = await softDeleteProduct(deps.db, productId);
  if (!removed) throw notFound('Product');
  deps.cache.invalidate({ kind: 'product', productId, facets: [facetOf(removed)] });
  deps.cache.invalidate({ kind: 'vendor', vendorId: removed.vendorId });
}

export async function getProduct(deps: CatalogueDeps, id: string): Promise<ProductView> {
  const product = await findProduct(deps.db, id);
  if (!product) throw notFound('Product');
  return toProductView(product);
}

export async function browseProducts(deps: CatalogueDeps, filters: ProductFilters, cursor?: string): Promise<ProductPage & { ids: string[] }> {
  if (filters.minPrice !== undefined && filters.maxPrice !== undefined && filters.minPrice > filters.maxPrice) {
    throw new AppError(400, 'validation_failed', 'minPrice must not exceed maxPrice', {
      issues: [{ location: 'query', path: ['minPrice'], code: 'too_big', message: 'must not exceed maxPrice' }],
    });
  }
  const after = cursor ? decodeCursor(cursor, filters.sort) : undefined;
  const { rows, more } = await listProducts(deps.db, filters, after);
  const last = rows.at(-1);
  return {
    items: rows.map(toProductView),
    nextCursor: more && last ? encodeCursor({ sort: filters.sort, value: last.sortKey, id: last.id }) : null,
    ids: rows.map((r) => r.id),
  };
}
