import { QuoteQuery, QuoteResponse, RatesQuery, RatesResponse } from '../../../shared/contracts';
import { defineRoute, errors, json, noStore, type Route, reply } from '../../lib/http/define-route';
import type { RateService } from './crypto-rates.service';

// Values change by the minute and carry their own age; caches must not keep them.
const NO_STORE = { 'Cache-Control': 'no-store' };

export function cryptoRatesRoutes(service: RateService): Route[] {
  return [
    defineRoute({
      operationId: 'getCryptoRates',
      method: 'get',
      path: '/api/crypto/rates',
      tag: 'crypto',
      summary: 'Crypto rates with tier, age and source',
      description: 'Never fails for lack of upstreams: the worst answer is the built-in table (tier `hardcoded`).',
      auth: 'anyone',
      limit: ['reads'],
      query: RatesQuery,
      responses: { 200: json('Rates per coin in the requested currency', RatesResponse, noStore) },
      handler: async ({ query }) => reply(200, await service.rates(query.symbols, query.vs), NO_STORE),
    }),

    defineRoute({
      operationId: 'getCryptoQuote',
      method: 'get',
      path: '/api/crypto/quote',
      tag: 'crypto',
      summary: 'An amount in a coin (15-minute quote)',
      auth: 'anyone',
      limit: ['reads'],
      query: QuoteQuery,
      responses: {
        200: json('The quote', QuoteResponse, noStore),
        503: {
          ...errors('No rate from the last hour (only the built-in table is left)', 'crypto_rates_unavailable'),
          headers: { 'Retry-After': { description: 'Seconds to wait before asking again', schema: { type: 'integer' } } },
        },
      },
      handler: async ({ query }) => reply(200, await service.quote(query), NO_STORE),
    }),
  ];
}
