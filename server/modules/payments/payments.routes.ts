import { Router } from 'express';
import { z } from 'zod';
import { rawBodyOf } from '../../lib/raw-body';
import { uuidParam, validateRequest } from '../../lib/validate';
import { mustBeSignedIn, requireUser } from '../auth';
import { type PaymentsDeps, processProviderEvent, startCardPayment, verifyWebhook } from './payments.service';

const IdParams = z.object({ id: uuidParam });

export function paymentsRouter(deps: PaymentsDeps): Router {
  const router = Router();

  router.post('/orders/:id/payment-intent', requireUser, async (req, res) => {
    const { params } = validateRequest(req, { params: IdParams });
    res.json(await startCardPayment(deps, mustBeSignedIn(req).id, params.id));
  });

  // Answered as soon as the event is recorded and applied; e-mail goes out from the queue later.
  router.post('/stripe/webhook', async (req, res) => {
    const event = verifyWebhook(deps, rawBodyOf(req), (name) => req.get(name));
    const { duplicate } = await processProviderEvent(deps, event);
    res.json({ received: true, duplicate });
  });

  return router;
}
