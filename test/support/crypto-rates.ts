import type { CryptoRatesModule } from '../../server/modules/crypto-rates';
import type { TestApp } from './app';

/** The running crypto-rate module (to await its background refresh instead of sleeping). */
export function cryptoRatesOf(t: TestApp): CryptoRatesModule {
  return t.app.modules.find((m) => m.name === 'cryptoRates') as CryptoRatesModule;
}

/** Log messages carrying the [CRYPTO-API] tag, in order. */
export function cryptoLogs(t: TestApp): string[] {
  return t.logs.entries.map((e) => String(e.message)).filter((m) => m.startsWith('[CRYPTO-API]'));
}
