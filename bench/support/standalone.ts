import type { BenchResult } from '../types';

/** For `npx tsx bench/<suite>.ts`: runs one suite, prints its table, exits 1 on a miss or an error. */
export function runStandalone(run: () => Promise<BenchResult[]>): void {
  const started = Date.now();
  run().then(
    (results) => {
      console.table(results);
      console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      process.exit(results.some((r) => r.pass === false) ? 1 : 0);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
