import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json<T = unknown>(): T;
}

export interface UpstreamReply {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export type UpstreamHandler = (
  req: RecordedRequest,
  res: http.ServerResponse,
) => UpstreamReply | undefined | Promise<UpstreamReply | undefined>;

/**
 * An outage to play: `down` refuses connections (nothing listens on the port), `hang` accepts the
 * request and never answers, `trickle` answers 200 and then sends a space every 200 ms without ever
 * ending (defeats idle-socket timeouts), a reply answers every request with it (a 5xx, 429, 401…).
 */
export type UpstreamFault = 'down' | 'hang' | 'trickle' | UpstreamReply;

export interface FakeUpstream {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Replace how the server answers (e.g. start failing, then recover). */
  setHandler(handler: UpstreamHandler): void;
  /** Plays an outage until called again without one (which also brings a `down` server back, on the same port). */
  setFault(fault: UpstreamFault | undefined): Promise<void>;
  /** Resolves when `count` requests matching `filter` have arrived. */
  waitForRequests(count: number, filter?: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

/**
 * A small local HTTP server that speaks an upstream's wire format (Stripe, Brevo, GCS,
 * CoinGecko…): the real SDK talks to it over real HTTP. Every request is recorded.
 * A handler returns a reply (JSON unless the body is a Buffer/string), or writes `res` itself
 * and returns undefined.
 */
export async function startFakeUpstream(initial: UpstreamHandler): Promise<FakeUpstream> {
  let handler = initial;
  let fault: UpstreamFault | undefined;
  let listening = false;
  const requests: RecordedRequest[] = [];
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const parsed = new URL(req.url ?? '/', 'http://localhost');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        path: parsed.pathname,
        query: parsed.searchParams,
        headers: req.headers,
        body,
        text: body.toString('utf8'),
        json: <T>() => JSON.parse(body.toString('utf8')) as T,
      };
      requests.push(recorded);
      for (const wake of waiters) wake();
      if (fault === 'hang') return; // Held open until the test closes the fake.
      if (fault === 'trickle') {
        res.writeHead(200, { 'content-type': 'application/json' });
        const drip = setInterval(() => res.write(' '), 200);
        res.on('close', () => clearInterval(drip));
        return;
      }
      try {
        const reply = typeof fault === 'object' ? fault : await handler(recorded, res);
        // Again once answered: a filter may depend on what the handler decided (e.g. accepted).
        for (const wake of waiters) wake();
        if (!reply || res.headersSent || res.writableEnded) return;
        const isRaw = Buffer.isBuffer(reply.body) || typeof reply.body === 'string';
        const payload = reply.body === undefined ? '' : isRaw ? (reply.body as Buffer | string) : JSON.stringify(reply.body);
        res.writeHead(reply.status ?? 200, {
          ...(isRaw || reply.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...reply.headers,
        });
        res.end(payload);
      } catch (error) {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      }
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        listening = true;
        resolve();
      });
    });
  const stop = () => {
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    return closed;
  };
  await listen(0);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    setHandler(next) {
      handler = next;
    },
    async setFault(next) {
      const wasHanging = fault === 'hang' || fault === 'trickle';
      fault = next;
      if (next === 'down' && listening) await stop();
      if (next !== 'down' && !listening) await listen(port);
      // Requests left hanging by an earlier fault are cut off, as a recovering upstream would.
      if (wasHanging && next !== 'hang') server.closeAllConnections();
    },
    waitForRequests(count, filter = () => true, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const matching = requests.filter(filter);
          if (matching.length >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(matching);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} upstream requests, saw ${requests.filter(filter).length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      if (listening) await stop();
    },
  };
}
