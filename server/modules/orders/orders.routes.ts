import { Router } from 'express';
import { z } from 'zod';
import { OrderListQuery, PlaceOrderBody } from '../../../shared/contracts';
import { rawBodyOf } from '../../lib/raw-body';
import { uuidParam, validateRequest } from '../../lib/validate';
import { mustBeSignedIn, requireUser } from '../auth';
import { cancelOrder, listMyOrders, type OrdersDeps, placeOrder, viewOrder } from './orders.service';
import { createPaymentIntent, type PaymentsDeps, processStripeEvent, verifyStripeEvent } from './payments.service';

const IdParams = z.object({ id: uuidParam });

export function ordersRouter(deps: OrdersDeps, payments: PaymentsDeps): Router {
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

  router.post('/orders/:id/payment-intent', requireUser, async (req, res) => {
    const { params } = validateRequest(req, { params: IdParams });
    res.json(await createPaymentIntent(payments, mustBeSignedIn(req).id, params.id));
  });

  // Answered as soon as the event is recorded and applied; e-mail goes out from the outbox later.
  router.post('/stripe/webhook', async (req, res) => {
    const event = verifyStripeEvent(payments, rawBodyOf(req), req.get('stripe-signature'));
    const { duplicate } = await processStripeEvent(payments, event);
    res.json({ received: true, duplicate });
  });

  return router;
}
