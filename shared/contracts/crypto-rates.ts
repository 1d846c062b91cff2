import { z } from 'zod';

/** Coins we quote; every provider is asked for all of them in one batched call. */
export const CRYPTO_SYMBOLS = ['BTC', 'ETH', 'USDT', 'USDC', 'SOL', 'MATIC', 'DOT', 'AVAX'] as const;
export const VS_CURRENCIES = ['usd', 'eur', 'gbp'] as const;
export const RATE_TIERS = ['fresh', 'stale', 'fallback', 'hardcoded'] as const;

export const CryptoSymbol = z.enum(CRYPTO_SYMBOLS, { message: `must be one of ${CRYPTO_SYMBOLS.join(', ')}` });
export const VsCurrency = z.enum(VS_CURRENCIES, { message: `must be one of ${VS_CURRENCIES.join(', ')}` });
export const RateTier = z.enum(RATE_TIERS);
export const BreakerState = z.enum(['closed', 'open', 'half_open']);

const upper = (v: unknown) => (typeof v === 'string' ? v.trim().toUpperCase() : v);
const lower = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : v);

/** `symbols=BTC,eth` (case-insensitive, deduplicated); all supported coins when omitted. */
const SymbolList = z
  .string()
  .max(200)
  .default(CRYPTO_SYMBOLS.join(','))
  .transform((v) => v.split(',').map((s) => s.trim().toUpperCase()))
  .pipe(z.array(CryptoSymbol).min(1))
  .transform((list) => [...new Set(list)]);

export const RatesQuery = z.strictObject({
  symbols: SymbolList,
  vs: z.preprocess(lower, VsCurrency).default('usd'),
});

export const QuoteQuery = z.strictObject({
  amountCents: z
    .string()
    .regex(/^\d{1,12}$/, 'must be a positive whole number of cents')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1 cent')),
  currency: z.preprocess(lower, VsCurrency),
  symbol: z.preprocess(upper, CryptoSymbol),
});

/** One coin's price in the requested currency, keyed by that currency (e.g. `usd`). */
export const RateValue = z
  .object({
    tier: RateTier,
    /** Seconds since the provider answered; null for the built-in table. */
    ageSeconds: z.number().int().nullable(),
    source: z.string(),
  })
  .catchall(z.number());

export const RatesResponse = z.object({
  rates: z.partialRecord(CryptoSymbol, RateValue),
  /** State of the primary provider's circuit breaker. */
  breaker: BreakerState,
});

export const QuoteResponse = z.object({
  symbol: CryptoSymbol,
  currency: VsCurrency,
  amountCents: z.number().int(),
  /** Amount of the coin as a decimal string (8 places, rounded up). */
  amount: z.string(),
  rate: z.number(),
  tier: RateTier,
  source: z.string(),
  ageSeconds: z.number().int().nullable(),
  expiresAt: z.string(),
});

export type CryptoSymbol = z.infer<typeof CryptoSymbol>;
export type VsCurrency = z.infer<typeof VsCurrency>;
export type RateTier = z.infer<typeof RateTier>;
export type BreakerState = z.infer<typeof BreakerState>;
export type RatesQuery = z.infer<typeof RatesQuery>;
export type QuoteQuery = z.infer<typeof QuoteQuery>;
export type RateValue = z.infer<typeof RateValue>;
export type RatesResponse = z.infer<typeof RatesResponse>;
export type QuoteResponse = z.infer<typeof QuoteResponse>;
