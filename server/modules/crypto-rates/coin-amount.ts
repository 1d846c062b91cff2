/** Coin amounts are quoted to 8 decimal places (satoshi precision). */
export const COIN_DECIMALS = 8;
const SCALE = 10n ** BigInt(COIN_DECIMALS);
// Rates are held to 10 decimals so sub-cent coins keep their precision in the division.
const RATE_DECIMALS = 10;
const RATE_SCALE = 10n ** BigInt(RATE_DECIMALS);

/**
 * `amountCents` of fiat in a coin priced at `rate` fiat units per coin, as a decimal string.
 * Integer maths (no float rounding); rounded up, so the payer never sends less than the price.
 */
export function coinAmount(amountCents: number, rate: number): string {
  if (!Number.isSafeInteger(amountCents) || amountCents < 0) throw new RangeError('amountCents must be a non-negative integer');
  if (!Number.isFinite(rate) || rate <= 0) throw new RangeError('rate must be positive');
  // toFixed keeps the decimal digits exactly (rate * 1e10 would leave the safe-integer range).
  const scaledRate = BigInt(rate.toFixed(RATE_DECIMALS).replace('.', ''));
  if (scaledRate === 0n) throw new RangeError('rate too small');
  // coin = (cents / 100) / rate → in 1e-8 units: cents * SCALE * RATE_SCALE / (100 * scaledRate)
  const numerator = BigInt(amountCents) * SCALE * RATE_SCALE;
  const denominator = 100n * scaledRate;
  const units = (numerator + denominator - 1n) / denominator;
  const whole = units / SCALE;
  const fraction = (units % SCALE).toString().padStart(COIN_DECIMALS, '0');
  return `${whole}.${fraction}`;
}
