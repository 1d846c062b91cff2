import type { Clock } from '../../server/lib/clock';

/** A clock the test moves by hand (`advance`), for TTLs, breakers and throttles. */
export class ManualClock implements Clock {
  constructor(private current = Date.parse('2026-01-01T00:00:00Z')) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}
