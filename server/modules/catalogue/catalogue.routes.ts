import { type Response, Router } from 'express';
import { z } from 'zod';
import { CreateProductBody, CreateVendorBody, ProductListQuery, UpdateProductBody } from '../../../shared/contracts';
import { uuidParam, validateRequest } from '../../lib/validate';
import { mustBeSignedIn, requireUser, startPrivilegedSession } from '../auth';
import {
  becomeVendor,
  browseProducts,
  type CatalogueDeps,
  changeProduct,
  createProduct,
  getProduct,
  getVendor,
  removeProduct,
} from './catalogue.service';
import { type ListEntry, listKey, productKey, vendorKey } from './response-cache';

const IdParams = z.object({ id: uuidParam });

export function catalogueRouter(deps: CatalogueDeps): Router {
  const router = Router();
  const { cache } = deps;

  /** Answers from the cache (HIT), or loads, stores and answers (MISS); errors are never cached. */
  async function respondCached(res: Response, key: string, load: () => Promise<{ body: unknown; list?: ListEntry }>): Promise<void> {
    let json = cache.get(key);
    const hit = json !== undefined;
    if (!hit) {
      const loaded = await load();
      json = JSON.stringify(loaded.body);
      cache.set(key, json, loaded.list);
    }
    res.set('X-Cache', hit ? 'HIT' : 'MISS').type('application/json').send(json);
  }

  router.post('/vendors', requireUser, async (req, res) => {
    const { body } = validateRequest(req, { body: CreateVendorBody });
    const user = mustBeSignedIn(req);
    const vendor = await becomeVendor(deps, user.id, body);
    // A privilege change: the session id changes with it.
    await startPrivilegedSession(req, { id: user.id, role: 'vendor' });
    res.status(201).json({ vendor });
  });

  router.get('/vendors/:id', async (req, res) => {
    const { params } = validateRequest(req, { params: IdParams });
    await respondCached(res, vendorKey(params.id), async () => ({ body: { vendor: await getVendor(deps, params.id) } }));
  });

  router.get('/products', async (req, res) => {
    const { query } = validateRequest(req, { query: ProductListQuery });
    const { cursor, ...filters } = query;
    await respondCached(res, listKey(filters, cursor), async () => {
      const { ids, ...page } = await browseProducts(deps, filters, cursor);
      const { sort: _sort, limit: _limit, ...listFilters } = filters;
      return { body: page, list: { filters: listFilters, ids } };
    });
  });

  router.get('/products/:id', async (req, res) => {
    const { params } = validateRequest(req, { params: IdParams });
    await respondCached(res, productKey(params.id), async () => ({ body: { product: await getProduct(deps, params.id) } }));
  });

  router.post('/products', requireUser, async (req, res) => {
    const { body } = validateRequest(req, { body: CreateProductBody });
    res.status(201).json({ product: await createProduct(deps, mustBeSignedIn(req).id, body) });
  });

  router.patch('/products/:id', requireUser, async (req, res) => {
    const { params, body } = validateRequest(req, { params: IdParams, body: UpdateProductBody });
    res.json({ product: await changeProduct(deps, mustBeSignedIn(req).id, params.id, body) });
  });

  router.delete('/products/:id', requireUser, async (req, res) => {
    const { params } = validateRequest(req, { params: IdParams });
    await removeProduct(deps, mustBeSignedIn(req).id, params.id);
    res.status(204).end();
  });

  return router;
}
