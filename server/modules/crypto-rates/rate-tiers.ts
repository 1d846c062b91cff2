import type { RateTier } from '../../../shared/contracts';

export const FRESH_MS = 5 * 60_000;
export const STALE_MS = 15 * 60_000;
export const FALLBACK_MS = 60 * 60_000;

/** The tier of a value fetched `ageMs` ago (SPEC §7); older than an hour is as good as nothing. */
export function tierForAge(ageMs: number): RateTier {
  if (ageMs <= FRESH_MS) return 'fresh';
  if (ageMs <= STALE_MS) return 'stale';
  if (ageMs <= FALLBACK_MS) return 'fallback';
  return 'hardcoded';
}

const ORDER: Record<RateTier, number> = { fresh: 0, stale: 1, fallback: 2, hardcoded: 3 };

export function worstTier(tiers: Iterable<RateTier>): RateTier {
  let worst: RateTier = 'fresh';
  for (const t of tiers) if (ORDER[t] > ORDER[worst]) worst = t;
  return worst;
}
