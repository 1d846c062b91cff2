import type { Clock } from '../../server/lib/clock';
import { type FakeUpstream, type RecordedRequest, startFakeUpstream, type UpstreamHandler, type UpstreamReply } from './fake-upstream';

/*
 * Local servers speaking the price APIs' wire formats (CoinGecko /simple/price, CryptoCompare
 * /data/pricemulti, CoinMarketCap /v2/cryptocurrency/quotes/latest). Each records the clock
 * time of every request so tests can check spacing on the injected clock.
 */

export const PRICES_USD: Record<string, number> = {
  BTC: 91234.5,
  ETH: 3012.25,
  USDT: 1.0002,
  USDC: 0.9999,
  SOL: 151.5,
  MATIC: 0.2134,
  DOT: 4.25,
  AVAX: 21.75,
};
const PER_USD: Record<string, number> = { usd: 1, eur: 0.86, gbp: 0.75 };
export const price = (symbol: string, vs = 'usd') => Number((PRICES_USD[symbol]! * PER_USD[vs]!).toFixed(6));

// CoinGecko's own coin ids (independent of the server's table, so the mapping is tested).
const GECKO_IDS: Record<string, string> = {
  bitcoin: 'BTC',
  ethereum: 'ETH',
  tether: 'USDT',
  'usd-coin': 'USDC',
  solana: 'SOL',
  'matic-network': 'MATIC',
  polkadot: 'DOT',
  'avalanche-2': 'AVAX',
};

export interface PriceOptions {
  /** Symbols the provider does not know (left out of its answer). */
  omit?: string[];
  /** Multiplies every price (tell providers apart). */
  factor?: number;
}

const list = (req: RecordedRequest, name: string) => (req.query.get(name) ?? '').split(',').filter(Boolean);

export function coinGeckoPrices(options: PriceOptions = {}): UpstreamHandler {
  return (req) => {
    if (req.path !== '/api/v3/simple/price') return { status: 404, body: { error: 'Not Found' } };
    const body: Record<string, Record<string, number>> = {};
    for (const id of list(req, 'ids')) {
      const symbol = GECKO_IDS[id];
      if (!symbol || options.omit?.includes(symbol)) continue;
      body[id] = Object.fromEntries(list(req, 'vs_currencies').map((vs) => [vs, price(symbol, vs) * (options.factor ?? 1)]));
    }
    return { body };
  };
}

export function cryptoComparePrices(options: PriceOptions = {}): UpstreamHandler {
  return (req) => {
    if (req.path !== '/data/pricemulti') return { status: 404, body: { Response: 'Error', Message: 'Path does not exist' } };
    const body: Record<string, Record<string, number>> = {};
    for (const symbol of list(req, 'fsyms')) {
      if (!PRICES_USD[symbol] || options.omit?.includes(symbol)) continue;
      body[symbol] = Object.fromEntries(list(req, 'tsyms').map((to) => [to, price(symbol, to.toLowerCase()) * (options.factor ?? 1)]));
    }
    return { body };
  };
}

export function coinMarketCapPrices(options: PriceOptions = {}): UpstreamHandler {
  return (req) => {
    if (req.path !== '/v2/cryptocurrency/quotes/latest')
      return { status: 404, body: { status: { error_code: 404, error_message: 'Not found' } } };
    const data: Record<string, unknown[]> = {};
    for (const symbol of list(req, 'symbol')) {
      if (!PRICES_USD[symbol] || options.omit?.includes(symbol)) continue;
      const quote = Object.fromEntries(
        list(req, 'convert').map((to) => [
          to,
          { price: price(symbol, to.toLowerCase()) * (options.factor ?? 1), last_updated: '2026-01-01T00:00:00.000Z' },
        ]),
      );
      data[symbol] = [{ id: 1, name: symbol, symbol, quote }];
    }
    return { body: { status: { error_code: 0, error_message: null, credit_count: 1 }, data } };
  };
}

/** Fixed failure replies in each API's style. */
export const failures = {
  rateLimited: (): UpstreamReply => ({
    status: 429,
    body: { status: { error_code: 429, error_message: "You've exceeded the Rate Limit." } },
  }),
  serverError: (): UpstreamReply => ({ status: 500, body: 'Internal Server Error' }),
  malformed: (): UpstreamReply => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"bitcoin":{"usd":9123' }),
  cryptoCompareError: (): UpstreamReply => ({
    status: 200,
    body: { Response: 'Error', Message: 'You are over your rate limit please upgrade your account!' },
  }),
  unauthorized: (): UpstreamReply => ({ status: 401, body: { status: { error_code: 1002, error_message: 'API key missing.' } } }),
  /** Never answers (the client's timeout must fire). */
  hang: (): Promise<undefined> => new Promise(() => {}),
};

export interface FakeProvider extends FakeUpstream {
  /** Clock time of each request, in arrival order. */
  times: number[];
  /** Swap the answer; the clock time is still recorded. */
  answer(handler: UpstreamHandler): void;
}

export async function startFakeProvider(clock: Clock, handler: UpstreamHandler): Promise<FakeProvider> {
  const times: number[] = [];
  let current = handler;
  const upstream = await startFakeUpstream((req, res) => {
    times.push(clock.now());
    return current(req, res);
  });
  return Object.assign(upstream, {
    times,
    answer(next: UpstreamHandler) {
      current = next;
    },
  });
}
