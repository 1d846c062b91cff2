import type { Request, Response } from 'express';
import { z } from 'zod';
import {
  CategoryList,
  CreateProductBody,
  CreateVendorBody,
  OwnVendorView,
  ProductListQuery,
  ProductPage,
  ProductView,
  UpdateProductBody,
  UpdateVendorBody,
  VendorListQuery,
  VendorPage,
  VendorView,
} from '../../../shared/contracts';
import {
  type Caller,
  defineRoute,
  errors,
  type HeaderSpec,
  json,
  type LimitSpec,
  type ResponseSpec,
  type Route,
  reply,
} from '../../lib/http/define-route';
import { PRIVATE_NO_STORE } from '../../lib/http/private-when-signed-in';
import { sendStoredBody, storeJsonBody } from '../../lib/http/stored-body';
import { uuidParam } from '../../lib/validate';
import { startPrivilegedSession } from '../auth';
import {
  becomeVendor,
  browseProducts,
  type CatalogueDeps,
  changeProduct,
  createProduct,
  getProduct,
  listCategories,
  removeProduct,
} from './catalogue.service';
import { browseVendors, getOwnVendor, getVendor, normaliseVendorFilters, updateOwnVendor } from './stores.service';
import { CATEGORIES_KEY, type EntryScope, listKey, normaliseListFilters, productKey, vendorKey, vendorListKey } from './response-cache';

const IdParams = z.object({ id: uuidParam });
const VendorResponse = z.object({ vendor: VendorView });
const OwnVendorResponse = z.object({ vendor: OwnVendorView });
const ProductResponse = z.object({ product: ProductView });
const header = (description: string): HeaderSpec => ({ description, schema: { type: 'string' } });
const validators: Record<string, HeaderSpec> = {
  ETag: header('Strong validator of the body as sent (a compressed variant carries its own); send it back in If-None-Match'),
  'Cache-Control': header('Anonymous: `public, max-age=…, stale-while-revalidate=…` (a CDN may hold it); signed in: `private, no-store`'),
  Vary: header('`Accept-Encoding`'),
};
const cached: Record<string, HeaderSpec> = {
  ...validators,
  'X-Cache': header('`HIT` when answered from the response cache, `MISS` otherwise'),
  'Content-Encoding': header('`br` or `gzip` when Accept-Encoding allows it and the body is worth compressing'),
};
const notModified: ResponseSpec = { description: 'Not modified: If-None-Match names the ETag of this answer', headers: validators };

// Searching (products or stores) costs far more than a listing: it has its own per-IP budget.
const spendSearchWhenQueried: LimitSpec = {
  bucket: 'search',
  onlyWhen: 'a search term (`q`) is given',
  applies: (req) => typeof req.query.q === 'string' && req.query.q.trim() !== '',
};
const retryAfter: Record<string, HeaderSpec> = { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } };

/** How long browsers and CDNs may keep anonymous catalogue answers. */
export interface SharedCachePolicy {
  maxAgeSeconds: number;
  staleWhileRevalidateSeconds: number;
}

export function catalogueRoutes(deps: CatalogueDeps, policy: SharedCachePolicy): Route[] {
  const { cache } = deps;
  const anonymousCacheControl = `public, max-age=${policy.maxAgeSeconds}, stale-while-revalidate=${policy.staleWhileRevalidateSeconds}`;
  // Same body as anonymous readers get (so the same server-side entry), but a response to a
  // signed-in user is kept by no cache, like every other one (lib/http/private-when-signed-in.ts).
  const signedInCacheControl = PRIVATE_NO_STORE;

  /**
   * Answers from the cache (HIT), or loads, stores and answers (MISS) the same stored bytes;
   * errors are never cached.
   */
  async function respondCached(
    { req, res, user }: { req: Request; res: Response; user: Caller | undefined },
    key: string,
    load: () => Promise<{ body: unknown } & EntryScope>,
  ): Promise<undefined> {
    const { body, hit } = await cache.load(key, async () => {
      const { body, ...scope } = await load();
      return { body: await storeJsonBody(body), ...scope };
    });
    sendStoredBody(req, res, body, {
      'X-Cache': hit ? 'HIT' : 'MISS',
      'Cache-Control': user ? signedInCacheControl : anonymousCacheControl,
    });
    return undefined;
  }

  return [
    defineRoute({
      operationId: 'openStore',
      method: 'post',
      path: '/api/vendors',
      tag: 'catalogue',
      summary: 'Open a store (become a vendor)',
      auth: 'user',
      limit: ['writes'],
      body: CreateVendorBody,
      responses: {
        201: json('The new store; the session id changes with the new role', VendorResponse),
        403: errors('The e-mail address is not verified yet', 'email_unverified'),
        409: errors('The user already has a store', 'already_vendor'),
      },
      async handler({ req, user, body }) {
        const { vendor, role } = await becomeVendor(deps, user.id, body);
        // A privilege change: the session id changes with it.
        await startPrivilegedSession(req, { id: user.id, role });
        return reply(201, { vendor });
      },
    }),

    defineRoute({
      operationId: 'listVendors',
      method: 'get',
      path: '/api/vendors',
      tag: 'catalogue',
      summary: 'Stores by name, searchable (keyset cursor, cached)',
      description: 'Suspended stores are never listed. `q` matches any part of the store name, ignoring case.',
      auth: 'anyone',
      limit: ['reads', spendSearchWhenQueried],
      query: VendorListQuery,
      responses: {
        200: json('One page of stores', VendorPage, cached),
        304: notModified,
        400: errors('A cursor this API did not issue', 'validation_failed', 'invalid_cursor'),
      },
      handler({ req, res, user, query }) {
        const { cursor, ...asked } = query;
        const filters = normaliseVendorFilters(asked);
        return respondCached({ req, res, user }, vendorListKey(filters, cursor), async () => {
          const { ids, ...page } = await browseVendors(deps, filters, cursor);
          return { body: page, list: { ids } };
        });
      },
    }),

    // Declared before /api/vendors/:id, so that `me` is never read as an id.
    defineRoute({
      operationId: 'getOwnVendor',
      method: 'get',
      path: '/api/vendors/me',
      tag: 'catalogue',
      summary: "The signed-in user's own store (also while suspended)",
      auth: 'user',
      limit: ['reads'],
      responses: {
        200: json('The store, with `suspendedAt`', OwnVendorResponse),
        403: errors('The user has no store', 'not_a_vendor'),
      },
      handler: async ({ user }) => reply(200, { vendor: await getOwnVendor(deps, user.id) }),
    }),

    defineRoute({
      operationId: 'updateOwnVendor',
      method: 'patch',
      path: '/api/vendors/me',
      tag: 'catalogue',
      summary: "Change the signed-in user's own store (name, description, logo)",
      description: '`logoKey` is a key from `POST /api/uploads?visibility=public`, or null to remove the logo.',
      auth: 'user',
      limit: ['writes'],
      body: UpdateVendorBody,
      responses: {
        200: json('The changed store', OwnVendorResponse),
        400: errors('The logo key names no uploaded public object', 'unknown_image'),
        403: errors('The user has no store, or it is suspended', 'not_a_vendor', 'vendor_suspended'),
        503: { ...errors('Object storage is unavailable to check the logo key', 'storage_unavailable'), headers: retryAfter },
      },
      handler: async ({ user, body }) => reply(200, { vendor: await updateOwnVendor(deps, user.id, body) }),
    }),

    defineRoute({
      operationId: 'getVendor',
      method: 'get',
      path: '/api/vendors/:id',
      tag: 'catalogue',
      summary: 'A store with its product count (cached)',
      auth: 'anyone',
      limit: ['reads'],
      params: IdParams,
      responses: {
        200: json('The store', VendorResponse, cached),
        304: notModified,
        404: errors('No such store (or it is suspended)', 'not_found'),
      },
      handler: ({ req, res, user, params }) =>
        respondCached({ req, res, user }, vendorKey(params.id), async () => ({ body: { vendor: await getVendor(deps, params.id) } })),
    }),

    defineRoute({
      operationId: 'listProducts',
      method: 'get',
      path: '/api/products',
      tag: 'catalogue',
      summary: 'Search and list products (keyset cursor, cached)',
      auth: 'anyone',
      limit: ['reads', spendSearchWhenQueried],
      query: ProductListQuery,
      responses: {
        200: json('One page of products', ProductPage, cached),
        304: notModified,
        400: errors('minPrice above maxPrice, or a cursor this API did not issue for this sort', 'validation_failed', 'invalid_cursor'),
      },
      handler({ req, res, user, query }) {
        const { cursor, ...asked } = query;
        const filters = normaliseListFilters(asked);
        return respondCached({ req, res, user }, listKey(filters, cursor), async () => {
          const { ids, ...page } = await browseProducts(deps, filters, cursor);
          const { sort: _sort, limit: _limit, ...listFilters } = filters;
          return { body: page, list: { filters: listFilters, ids } };
        });
      },
    }),

    defineRoute({
      operationId: 'listCategories',
      method: 'get',
      path: '/api/categories',
      tag: 'catalogue',
      summary: 'Every category with its count of live products, by name (cached)',
      auth: 'anyone',
      limit: ['reads'],
      responses: {
        200: json('The categories', CategoryList, cached),
        304: notModified,
      },
      handler: ({ req, res, user }) =>
        respondCached({ req, res, user }, CATEGORIES_KEY, async () => ({ body: await listCategories(deps) })),
    }),

    defineRoute({
      operationId: 'getProduct',
      method: 'get',
      path: '/api/products/:id',
      tag: 'catalogue',
      summary: 'A product (cached)',
      auth: 'anyone',
      limit: ['reads'],
      params: IdParams,
      responses: {
        200: json('The product', ProductResponse, cached),
        304: notModified,
        404: errors('No such product (or it was removed, or its store is suspended)', 'not_found'),
      },
      handler: ({ req, res, user, params }) =>
        respondCached({ req, res, user }, productKey(params.id), async () => {
          const product = await getProduct(deps, params.id);
          return { body: { product }, vendorId: product.vendorId };
        }),
    }),

    defineRoute({
      operationId: 'createProduct',
      method: 'post',
      path: '/api/products',
      tag: 'catalogue',
      summary: 'List a product (vendors)',
      auth: 'user',
      limit: ['writes'],
      body: CreateProductBody,
      responses: {
        201: json('The new product', ProductResponse),
        400: errors('An image key names no uploaded public object', 'unknown_image'),
        403: errors('The user has no store, or it is suspended', 'not_a_vendor', 'vendor_suspended'),
        503: { ...errors('Object storage is unavailable to check the image keys', 'storage_unavailable'), headers: retryAfter },
      },
      handler: async ({ user, body }) => reply(201, { product: await createProduct(deps, user.id, body) }),
    }),

    defineRoute({
      operationId: 'updateProduct',
      method: 'patch',
      path: '/api/products/:id',
      tag: 'catalogue',
      summary: 'Change a product (its vendor only)',
      auth: 'user',
      limit: ['writes'],
      params: IdParams,
      body: UpdateProductBody,
      responses: {
        200: json('The changed product', ProductResponse),
        400: errors('An image key names no uploaded public object', 'unknown_image'),
        403: errors("Another store lists this product, or the user's store is suspended", 'not_owner', 'vendor_suspended'),
        404: errors('No such product', 'not_found'),
        503: { ...errors('Object storage is unavailable to check the image keys', 'storage_unavailable'), headers: retryAfter },
      },
      handler: async ({ user, params, body }) => reply(200, { product: await changeProduct(deps, user.id, params.id, body) }),
    }),

    defineRoute({
      operationId: 'deleteProduct',
      method: 'delete',
      path: '/api/products/:id',
      tag: 'catalogue',
      summary: 'Remove a product (soft delete, its vendor only)',
      auth: 'user',
      limit: ['writes'],
      params: IdParams,
      responses: {
        204: { description: 'Removed' },
        403: errors("Another store lists this product, or the user's store is suspended", 'not_owner', 'vendor_suspended'),
        404: errors('No such product', 'not_found'),
      },
      async handler({ user, params }) {
        await removeProduct(deps, user.id, params.id);
        return reply(204);
      },
    }),
  ];
}
