/** Thrown when a call outlives its deadline; the name matches what `AbortSignal.timeout()` gives. */
export class DeadlineExceeded extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * Runs `call` with a signal that aborts after `ms` (or when `outer` aborts), and settles by then
 * even if the callee ignores the signal: a hung upstream must never hold a request.
 *
 * The deadline is our own AbortController and timer, referenced until the call settles. On Node 20
 * an `AbortSignal.timeout()` held only by `AbortSignal.any()` can be garbage-collected before it
 * fires, and the call then waits for minutes.
 */
export async function withDeadline<T>(ms: number, call: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal): Promise<T> {
  const deadline = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onOuterAbort = () => deadline.abort(outer?.reason);
  const expired = new Promise<never>((_, reject) => {
    const fail = () => reject(deadline.signal.reason);
    deadline.signal.addEventListener('abort', fail, { once: true });
    timer = setTimeout(() => deadline.abort(new DeadlineExceeded(ms)), ms);
    if (outer?.aborted) onOuterAbort();
    else outer?.addEventListener('abort', onOuterAbort, { once: true });
  });
  try {
    return await Promise.race([call(deadline.signal), expired]);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuterAbort);
    // A call that settled first leaves `expired` pending forever; nothing awaits it, so nothing leaks but the closure.
  }
}
