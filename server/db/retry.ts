import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { pgErrorCode } from './errors';

// SQLSTATEs worth a second try: serialization failure, deadlock, admin shutdown / crash
// recovery / cold start, and the connection-exception class (08xxx).
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);
const TRANSIENT_NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);
const TRANSIENT_MESSAGE =
  /connection terminated|terminating connection|connection error|timeout exceeded when trying to connect|socket hang up|closed the connection unexpectedly|websocket/i;

export function isTransientDatabaseError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = pgErrorCode(error);
  if (code) return TRANSIENT_SQLSTATES.has(code) || TRANSIENT_NODE_CODES.has(code);
  for (let e: unknown = error; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (TRANSIENT_MESSAGE.test(e.message)) return true;
  }
  return false;
}

export interface RetryOptions {
  /** Attempts in all (default 3); `Infinity` retries until `signal` aborts. */
  maxAttempts?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Which failures deserve another attempt (default: `isTransientDatabaseError`). */
  shouldRetry?: (error: unknown) => boolean;
  /** Stops retrying (the pending wait ends at once) and rejects with the last error. */
  signal?: AbortSignal;
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/**
 * Runs `work` again on transient database failures with exponential backoff and jitter
 * (cockatiel's decorrelated jitter); anything else surfaces at once. `work` must be safe to
 * repeat: wrap a whole transaction, not a statement inside one.
 */
export async function executeWithRetry<T>(work: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = retry(handleWhen(options.shouldRetry ?? isTransientDatabaseError), {
    // cockatiel counts retries after the first call; ours counts calls.
    maxAttempts: (options.maxAttempts ?? 3) - 1,
    backoff: new ExponentialBackoff({ initialDelay: options.initialDelayMs ?? 100, maxDelay: options.maxDelayMs ?? 2_000 }),
  });
  if (options.onRetry) {
    const onRetry = options.onRetry;
    policy.onRetry((e) => onRetry({ attempt: e.attempt, delayMs: e.delay, error: 'error' in e ? e.error : undefined }));
  }
  const { signal } = options;
  if (!signal) return policy.execute(() => work());
  // cockatiel's wait between attempts ignores the signal: end it ourselves, and never start
  // another attempt once aborted.
  let lastError: unknown = new Error('aborted');
  const attempt = async () => {
    if (signal.aborted) throw lastError;
    try {
      return await work();
    } catch (error) {
      lastError = error;
      throw error;
    }
  };
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(lastError);
    signal.addEventListener('abort', () => reject(lastError), { once: true });
  });
  return Promise.race([policy.execute(attempt, signal), aborted]);
}
