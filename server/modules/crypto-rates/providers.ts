import { z } from 'zod';
import { CRYPTO_SYMBOLS, type CryptoSymbol, VS_CURRENCIES, type VsCurrency } from '../../../shared/contracts';
import type { Config } from '../../lib/config';
import { COINGECKO_IDS } from './coins';

export type ProviderName = 'coingecko' | 'cryptocompare' | 'coinmarketcap';

export interface FetchedPrice {
  symbol: CryptoSymbol;
  vs: VsCurrency;
  price: number;
}

/** One upstream price API. Throws on anything but a usable answer (the breaker counts it). */
export interface RateProvider {
  name: ProviderName;
  fetchPrices(symbols: readonly CryptoSymbol[], currencies: readonly VsCurrency[], signal: AbortSignal): Promise<FetchedPrice[]>;
}

/** An upstream answered, but not with prices we can use. */
export class UpstreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamError';
  }
}

const join = (base: string, path: string) => `${base.replace(/\/+$/, '')}${path}`;
const isPrice = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
const symbolOf = (s: string) => ((CRYPTO_SYMBOLS as readonly string[]).includes(s) ? (s as CryptoSymbol) : undefined);
const currencyOf = (s: string) => {
  const lower = s.toLowerCase();
  return (VS_CURRENCIES as readonly string[]).includes(lower) ? (lower as VsCurrency) : undefined;
};

async function getJson(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<unknown> {
  const res = await fetch(url, { headers: { accept: 'application/json', ...headers }, signal });
  const text = await res.text();
  if (!res.ok) throw new UpstreamError(`HTTP ${res.status}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new UpstreamError('malformed JSON');
  }
}

const PriceTable = z.record(z.string(), z.record(z.string(), z.unknown()));

function parseTable(body: unknown, what: string) {
  const parsed = PriceTable.safeParse(body);
  if (!parsed.success) throw new UpstreamError(`unexpected ${what} response shape`);
  return parsed.data;
}

/** GET /simple/price?ids=bitcoin,ethereum&vs_currencies=usd,eur → {"bitcoin":{"usd":91234.5}} */
export function coinGecko(config: Pick<Config, 'COINGECKO_API_URL' | 'COINGECKO_API_KEY'>): RateProvider {
  const base = config.COINGECKO_API_URL;
  // Pro keys only work on the pro host and demo keys only on the public one.
  const keyHeader = new URL(base).hostname === 'pro-api.coingecko.com' ? 'x-cg-pro-api-key' : 'x-cg-demo-api-key';
  const headers: Record<string, string> = config.COINGECKO_API_KEY ? { [keyHeader]: config.COINGECKO_API_KEY } : {};
  return {
    name: 'coingecko',
    async fetchPrices(symbols, currencies, signal) {
      const ids = symbols.map((s) => COINGECKO_IDS[s]);
      const url = join(base, `/simple/price?ids=${ids.join(',')}&vs_currencies=${currencies.join(',')}`);
      const table = parseTable(await getJson(url, headers, signal), 'simple/price');
      return symbols.flatMap((symbol) =>
        currencies.flatMap((vs) => {
          const price = table[COINGECKO_IDS[symbol]]?.[vs];
          return isPrice(price) ? [{ symbol, vs, price }] : [];
        }),
      );
    },
  };
}

/** GET /data/pricemulti?fsyms=BTC,ETH&tsyms=USD,EUR → {"BTC":{"USD":91234.5}}; errors arrive as 200 {"Response":"Error"}. */
export function cryptoCompare(config: Pick<Config, 'CRYPTOCOMPARE_API_URL' | 'CRYPTOCOMPARE_API_KEY'>): RateProvider {
  const headers: Record<string, string> = config.CRYPTOCOMPARE_API_KEY ? { authorization: `Apikey ${config.CRYPTOCOMPARE_API_KEY}` } : {};
  return {
    name: 'cryptocompare',
    async fetchPrices(symbols, currencies, signal) {
      const tsyms = currencies.map((c) => c.toUpperCase()).join(',');
      const url = join(config.CRYPTOCOMPARE_API_URL, `/data/pricemulti?fsyms=${symbols.join(',')}&tsyms=${tsyms}`);
      const body = await getJson(url, headers, signal);
      if (body && typeof body === 'object' && (body as { Response?: unknown }).Response === 'Error') {
        throw new UpstreamError(`error response: ${String((body as { Message?: unknown }).Message ?? 'unknown').slice(0, 200)}`);
      }
      const table = parseTable(body, 'pricemulti');
      const prices: FetchedPrice[] = [];
      for (const [from, row] of Object.entries(table)) {
        const symbol = symbolOf(from);
        for (const [to, price] of Object.entries(row)) {
          const vs = currencyOf(to);
          if (symbol && vs && isPrice(price)) prices.push({ symbol, vs, price });
        }
      }
      return prices;
    },
  };
}

const CmcQuotes = z.object({
  status: z.object({ error_code: z.coerce.number(), error_message: z.string().nullish() }).optional(),
  data: z
    .record(
      z.string(),
      // v2 answers a list per symbol (several coins may share a ticker; the first is the ranked one).
      z.union([
        z.array(z.object({ quote: z.record(z.string(), z.object({ price: z.unknown() })) })),
        z.object({ quote: z.record(z.string(), z.object({ price: z.unknown() })) }),
      ]),
    )
    .optional(),
});

/** GET /v2/cryptocurrency/quotes/latest?symbol=BTC,ETH&convert=USD with X-CMC_PRO_API_KEY. */
export function coinMarketCap(config: Pick<Config, 'COINMARKETCAP_API_URL'>, apiKey: string): RateProvider {
  return {
    name: 'coinmarketcap',
    async fetchPrices(symbols, currencies, signal) {
      const convert = currencies.map((c) => c.toUpperCase()).join(',');
      const url = join(config.COINMARKETCAP_API_URL, `/v2/cryptocurrency/quotes/latest?symbol=${symbols.join(',')}&convert=${convert}`);
      const parsed = CmcQuotes.safeParse(await getJson(url, { 'X-CMC_PRO_API_KEY': apiKey }, signal));
      if (!parsed.success) throw new UpstreamError('unexpected quotes/latest response shape');
      if (parsed.data.status && parsed.data.status.error_code !== 0) {
        throw new UpstreamError(`error ${parsed.data.status.error_code}: ${parsed.data.status.error_message ?? ''}`.trim());
      }
      const prices: FetchedPrice[] = [];
      for (const [ticker, entry] of Object.entries(parsed.data.data ?? {})) {
        const symbol = symbolOf(ticker);
        const first = Array.isArray(entry) ? entry[0] : entry;
        for (const [to, q] of Object.entries(first?.quote ?? {})) {
          const vs = currencyOf(to);
          if (symbol && vs && isPrice(q.price)) prices.push({ symbol, vs, price: q.price });
        }
      }
      return prices;
    },
  };
}

/** The chain in the order SPEC §7 gives: CoinGecko, CryptoCompare, then CoinMarketCap when keyed. */
export function providersFromConfig(config: Config): RateProvider[] {
  const chain = [coinGecko(config), cryptoCompare(config)];
  if (config.COINMARKETCAP_API_KEY) chain.push(coinMarketCap(config, config.COINMARKETCAP_API_KEY));
  return chain;
}
