import { Router } from 'express';
import { QuoteQuery, RatesQuery } from '../../../shared/contracts';
import { validateRequest } from '../../lib/validate';
import type { RateService } from './crypto-rates.service';

export function cryptoRatesRouter(service: RateService): Router {
  const router = Router();

  router.get('/rates', async (req, res) => {
    const { query } = validateRequest(req, { query: RatesQuery });
    const body = await service.rates(query.symbols, query.vs);
    // Values change by the minute and carry their own age; caches must not keep them.
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.get('/quote', async (req, res) => {
    const { query } = validateRequest(req, { query: QuoteQuery });
    const quote = await service.quote(query);
    res.set('Cache-Control', 'no-store').json(quote);
  });

  return router;
}
