import { Router } from 'express';
import { z } from 'zod';
import { OrderListQuery, PlaceOrderBody } from '../../../shared/contracts';
import { uuidParam, validateRequest } from '../../lib/validate';
import { mustBeSignedIn, requireUser } from '../auth';
import { cancelOrder, listMyOrders, type OrdersDeps, placeOrder, viewOrder } from './orders.service';

const IdParams = z.object({ id: uuidParam });

export function ordersRouter(deps: OrdersDeps): Router {
  const router = Router();

  router.post('/orders', requireUser, async (req, res) => {
    const { body } = validateRequest(req, { body: PlaceOrderBody });
    res.status(201).json({ order: await placeOrder(deps, mustBeSignedIn(req).id, body) });
  });

  router.get('/orders', requireUser, async (req, res) => {
    const { query } = validateRequest(req, { query: OrderListQuery });
    res.json({ items: await listMyOrders(deps, mustBeSignedIn(req).id, query.limit) });
  });

  router.get('/orders/:id', requireUser, async (req, res) => {
    const { params } = validateRequest(req, { params: IdParams });
    res.json({ order: await viewOrder(deps, mustBeSignedIn(req).id, params.id) });
  });

  router.post('/orders/:id/cancel', requireUser, async (req, res) => {
    const { params } = validateRequest(req, { params: IdParams });
    res.json({ order: await cancelOrder(deps, mustBeSignedIn(req).id, params.id) });
  });

  return router;
}
