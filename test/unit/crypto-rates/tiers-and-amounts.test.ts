import { coinAmount } from '../../../server/modules/crypto-rates/coin-amount';
import { tierForAge, worstTier } from '../../../server/modules/crypto-rates/rate-tiers';

const MIN = 60_000;

describe('tierForAge', () => {
  it.each([
    [0, 'fresh'],
    [5 * MIN, 'fresh'],
    [5 * MIN + 1, 'stale'],
    [15 * MIN, 'stale'],
    [15 * MIN + 1, 'fallback'],
    [60 * MIN, 'fallback'],
    [60 * MIN + 1, 'hardcoded'],
  ])('a value %i ms old is %s', (age, tier) => {
    expect(tierForAge(age)).toBe(tier);
  });

  it('the worst tier of a set decides whether a request waits', () => {
    expect(worstTier(['fresh', 'stale', 'fresh'])).toBe('stale');
    expect(worstTier(['fallback', 'hardcoded', 'stale'])).toBe('hardcoded');
    expect(worstTier([])).toBe('fresh');
  });
});

describe('coinAmount', () => {
  it.each([
    [4561725, 91234.5, '0.50000000'],
    [1000, 3012.25, '0.00331978'],
    [100, 1, '1.00000000'],
    [1, 91234.5, '0.00000011'],
    [999_999_999_999, 0.2134, '46860356138.65979382'],
    [2500, 0.9999, '25.00250026'],
  ])('%i cents at %f per coin is %s (rounded up at 8 places)', (cents, rate, amount) => {
    expect(coinAmount(cents, rate)).toBe(amount);
  });

  it('refuses a non-positive rate and a fractional amount', () => {
    expect(() => coinAmount(100, 0)).toThrow(RangeError);
    expect(() => coinAmount(1.5, 10)).toThrow(RangeError);
  });
});
