import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
  type IBackoff,
  type IBackoffFactory,
  type IHalfOpenAfterBackoffContext,
} from 'cockatiel';
import type { BreakerState } from '../../../shared/contracts';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';

export const FAILURES_TO_OPEN = 5;
export const COOLDOWN_MS = 5 * 60_000;

export type BreakerOutcome<T> = { ok: true; value: T } | { ok: false; skipped: true } | { ok: false; skipped: false; error: Error };

/*
 * cockatiel 3.2 stamps `openedAt` with Date.now() and stays open while
 * `Date.now() - openedAt < backoff.duration`; it takes no clock. Instead of faking the global
 * timers we hand it a backoff whose `duration` answers from the injected clock: +Infinity until
 * the cooldown has passed on our clock, -Infinity after (so the next call becomes the half-open
 * probe). Counting (ConsecutiveBreaker) and the single half-open probe stay cockatiel's own.
 */
function cooldownOnClock(clock: Clock, ms: number, onOpen: (until: number) => void): IBackoffFactory<IHalfOpenAfterBackoffContext> {
  const open = (): IBackoff<IHalfOpenAfterBackoffContext> => {
    const until = clock.now() + ms;
    onOpen(until);
    return {
      get duration() {
        return clock.now() >= until ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
      },
      next: open,
    };
  };
  return { next: open };
}

export interface ProviderBreaker {
  readonly name: string;
  state(): BreakerState;
  /** When an open breaker lets its probe through (epoch ms on the injected clock). */
  openUntil(): number | undefined;
  consecutiveFailures(): number;
  /** Runs `fn` unless the breaker is open; never throws. */
  call<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<BreakerOutcome<T>>;
}

export function createProviderBreaker(name: string, deps: { clock: Clock; logger: Logger; onFailure?: () => void }): ProviderBreaker {
  const { clock, logger } = deps;
  const counter = new ConsecutiveBreaker(FAILURES_TO_OPEN);
  let until: number | undefined;
  const policy = circuitBreaker(handleAll, {
    halfOpenAfter: cooldownOnClock(clock, COOLDOWN_MS, (at) => {
      until = at;
    }),
    breaker: counter,
  });
  // Logged after the failure that caused it (onBreak fires inside execute, before we see the error).
  let justOpened = false;
  policy.onBreak(() => {
    justOpened = true;
  });
  policy.onHalfOpen(() => logger.info(`[CRYPTO-API] ${name} circuit half-open: sending one probe`));
  policy.onReset(() => {
    until = undefined;
    logger.info(`[CRYPTO-API] ${name} circuit closed: probe succeeded`);
  });

  return {
    name,
    state() {
      const s = policy.state;
      return s === CircuitState.Closed ? 'closed' : s === CircuitState.HalfOpen ? 'half_open' : 'open';
    },
    openUntil: () => (policy.state === CircuitState.Closed ? undefined : until),
    consecutiveFailures: () => counter.state as number,
    async call(fn) {
      const probing = policy.state !== CircuitState.Closed;
      try {
        return { ok: true, value: await policy.execute(({ signal }) => fn(signal)) };
      } catch (error) {
        if (error instanceof BrokenCircuitError) return { ok: false, skipped: true };
        deps.onFailure?.();
        const reason = (error as Error).name === 'TimeoutError' ? 'timed out' : (error as Error).message;
        if (probing) logger.warn(`[CRYPTO-API] ${name} probe failed: ${reason}`);
        else logger.warn(`[CRYPTO-API] ${name} failure ${counter.state}/${FAILURES_TO_OPEN}: ${reason}`);
        if (justOpened) {
          justOpened = false;
          logger.error(
            `[CRYPTO-API] ${name} circuit open until ${new Date(until!).toISOString()} (no calls during the ${COOLDOWN_MS / 60_000} min cooldown)`,
          );
        }
        return { ok: false, skipped: false, error: error as Error };
      }
    },
  };
}
