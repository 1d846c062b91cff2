import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeadlineExceeded, withDeadline } from '../../../server/lib/deadline';

/** A server that accepts every connection and never answers: the shape of a hung upstream. */
async function startSilentServer() {
  const server = http.createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('withDeadline', () => {
  it('when the call answers in time, then its value comes back', async () => {
    await expect(withDeadline(1_000, async () => 42)).resolves.toBe(42);
  });

  it('when fetch hits a server that never answers, then it fails with a TimeoutError within the deadline and the signal aborted', async () => {
    const silent = await startSilentServer();
    let seen: AbortSignal | undefined;
    const started = Date.now();
    try {
      await expect(
        withDeadline(300, (signal) => {
          seen = signal;
          return fetch(silent.url, { signal });
        }),
      ).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(Date.now() - started).toBeLessThan(300 + 2_000);
      expect(seen?.aborted).toBe(true);
    } finally {
      await silent.close();
    }
  });

  it('when the callee ignores the signal, then the deadline still settles the call', async () => {
    const started = Date.now();
    const error = await withDeadline(200, () => new Promise<never>(() => undefined)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceeded);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started).toBeLessThan(200 + 2_000);
  });

  it('when the outer signal aborts first, then the call fails with its reason', async () => {
    const outer = new AbortController();
    const call = withDeadline(
      10_000,
      (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      outer.signal,
    );
    outer.abort(new Error('shutting down'));
    await expect(call).rejects.toThrow('shutting down');
  });

  it('when the call fails on its own, then that error comes back (not a timeout)', async () => {
    await expect(withDeadline(1_000, async () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
  });
});
