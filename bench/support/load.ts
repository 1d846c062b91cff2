import http from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

/** Serves `handler` on loopback for the duration of a bench. */
export function serveOnLoopback(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    ),
  );
}

/** autocannon against `url`; a short warm-up first so JIT and caches are settled. */
export async function load(options: autocannon.Options & { warmupSeconds?: number }): Promise<LoadResult> {
  const { warmupSeconds = 1, ...rest } = options;
  if (warmupSeconds > 0) await autocannon({ connections: 10, ...rest, duration: warmupSeconds });
  const result = await autocannon({ connections: 10, duration: 5, ...rest });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    // autocannon reports p97.5 and p99; p95 is interpolated between p90 and p97.5.
    p95Ms: result.latency.p90 + ((result.latency.p97_5 - result.latency.p90) * 5) / 7.5,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}
