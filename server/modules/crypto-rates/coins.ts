import type { CryptoSymbol, VsCurrency } from '../../../shared/contracts';

/** CoinGecko names coins by id, not ticker. */
export const COINGECKO_IDS: Record<CryptoSymbol, string> = {
  BTC: 'bitcoin',
  ETH: 'ethereum',
  USDT: 'tether',
  USDC: 'usd-coin',
  SOL: 'solana',
  MATIC: 'matic-network',
  DOT: 'polkadot',
  AVAX: 'avalanche-2',
};

/*
 * Last-resort prices (approximate, early 2026), served only when nothing fetched in the last
 * hour is held, and always flagged `hardcoded`; quotes refuse them.
 */
const HARDCODED_USD: Record<CryptoSymbol, number> = {
  BTC: 90_000,
  ETH: 3_000,
  USDT: 1,
  USDC: 1,
  SOL: 140,
  MATIC: 0.2,
  DOT: 2,
  AVAX: 13,
};
const USD_PER: Record<VsCurrency, number> = { usd: 1, eur: 1.16, gbp: 1.34 };

export function hardcodedPrice(symbol: CryptoSymbol, vs: VsCurrency): number {
  return Number((HARDCODED_USD[symbol] / USD_PER[vs]).toPrecision(6));
}

export const pairKey = (symbol: CryptoSymbol, vs: VsCurrency) => `${symbol}:${vs}`;
