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
import { listKey, productKey, vendorKey } from './response-cache';

const IdParams = z.object({ id: uuidParam });

function sendJson(res: Response, json: string, cache: 'HIT' | 'MISS'): void {
  res.set('X-Cache', cache).type('application/json').send(json);
}

export function catalogueRouter(deps: CatalogueDeps): Router {
  const router = Router();
  const { cache } = deps;

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
    const key = vendorKey(params.id);
    const cached = cache.get(key);
    if (cached) return sendJson(res, cached, 'HIT');
    const json = JSON.stringify({ vendor: await getVendor(deps, params.id) });
    cache.set(key, json);
    sendJson(res, json, 'MISS');
  });

  router.get('/products', async (req, res) => {
    const { query } = validateRequest(req, { query: ProductListQuery });
    const { cursor, ...filters } = query;
    const key = listKey(filters, cursor);
    const cached = cache.get(key);
    if (cached) return sendJson(res, cached, 'HIT');
    const { ids, ...page } = await browseProducts(deps, filters, cursor);
    const json = JSON.stringify(page);
    const { sort: _sort, limit: _limit, ...listFilters } = filters;
    cache.set(key, json, { filters: listFilters, ids });
    sendJson(res, json, 'MISS');
  });

  router.get('/products/:id', async (req, res) => {
    const { params } = validateRequest(req, { params: IdParams });
    const key = productKey(params.id);
    const cached = cache.get(key);
    if (cached) return sendJson(res, cached, 'HIT');
    const json = JSON.stringify({ product: await getProduct(deps, params.id) });
    cache.set(key, json);
    sendJson(res, json, 'MISS');
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
