// Owned by the crypto-rates module.
import { doublePrecision, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { tstz } from './columns';

/* Last good value per pair, so a restart during an upstream outage serves fallback, not hardcoded. */
export const cryptoRates = pgTable(
  'crypto_rates',
  {
    symbol: text('symbol').notNull(),
    vsCurrency: text('vs_currency').notNull(),
    price: doublePrecision('price').notNull(),
    source: text('source').notNull(),
    fetchedAt: tstz('fetched_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.symbol, t.vsCurrency] })],
);
