import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import type http from 'node:http';
import type pg from 'pg';
import { serveOnLoopback } from './load';

/** Statements sent per pool (each one round trip), and how many of them requests caused. */
export interface StatementCount {
  byRequests: Record<string, number>;
  all: Record<string, number>;
}

export interface StatementCounter {
  /**
   * Serves the app on a second loopback port whose requests are tagged, runs `work` against it,
   * and returns the statements sent meanwhile: those a request caused (awaited by it, or started
   * while it ran) and all of them (background work too: job polling, periodic syncs).
   */
  countDuring(work: (url: string) => Promise<void>): Promise<StatementCount>;
  /** Sum of one side of a count over every pool. */
  total(counts: Record<string, number>): number;
}

/**
 * Counts the statements every client of `pools` sends. Install it on fresh pools, before any
 * client connects: only clients connected afterwards are counted.
 */
export function countStatements(pools: Record<string, pg.Pool>, handler: http.RequestListener): StatementCounter {
  const request = new AsyncLocalStorage<true>();
  let counting: StatementCount | undefined;
  for (const [name, pool] of Object.entries(pools)) {
    // pg-pool hands a queued caller its client from the callback of whoever released it (pool.query
    // waits that way); binding the callback keeps the statement attributed to the request that asked.
    const connect = pool.connect as (...args: unknown[]) => unknown;
    pool.connect = function boundConnect(this: pg.Pool, ...args: unknown[]) {
      const [callback] = args;
      return connect.apply(this, typeof callback === 'function' ? [AsyncResource.bind(callback as () => void)] : args);
    } as typeof pool.connect;
    pool.on('connect', (client) => {
      const query = client.query;
      client.query = function countedQuery(this: pg.PoolClient, ...args: unknown[]) {
        if (counting) {
          counting.all[name] = (counting.all[name] ?? 0) + 1;
          if (request.getStore()) counting.byRequests[name] = (counting.byRequests[name] ?? 0) + 1;
        }
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof client.query;
    });
  }
  const zero = () => Object.fromEntries(Object.keys(pools).map((name) => [name, 0]));
  return {
    async countDuring(work) {
      const server = await serveOnLoopback((req, res) => request.run(true, () => handler(req, res)));
      counting = { byRequests: zero(), all: zero() };
      try {
        await work(server.url);
        return counting;
      } finally {
        counting = undefined;
        await server.close();
        // Async context tracking costs every promise in the process; the throughput rows must not pay it.
        request.disable();
      }
    },
    total: (counts) => Object.values(counts).reduce((sum, n) => sum + n, 0),
  };
}
