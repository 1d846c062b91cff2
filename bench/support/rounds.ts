import type autocannon from 'autocannon';
import { type LoadResult, load } from './load';

// BENCH_ROUNDS / BENCH_ROUND_S shorten a run while editing a suite; the defaults are what the table reports.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_S = Number(process.env.BENCH_ROUND_S ?? 3);

export interface Rounds {
  ours: LoadResult[];
  baseline: LoadResult[];
}

/** The median ratio of ours to the baseline over the rounds, with the lowest and highest round. */
export interface RoundsSummary {
  ours: number;
  baseline: number;
  ratio: number;
  spread: [number, number];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Baseline and ours in alternating short autocannon runs (B/A/B/A…, one warm-up of each first),
 * so a drift of the shared machine during the suite hits both sides alike; the row reports the
 * median of the per-round ratios, which one noisy round cannot move.
 */
export async function loadInRounds(options: { ours: autocannon.Options; baseline: autocannon.Options }): Promise<Rounds> {
  await load({ ...options.baseline, warmupSeconds: 0, duration: 1 });
  await load({ ...options.ours, warmupSeconds: 0, duration: 1 });
  const rounds: Rounds = { ours: [], baseline: [] };
  for (let round = 0; round < ROUNDS; round++) {
    rounds.baseline.push(await load({ duration: ROUND_S, ...options.baseline, warmupSeconds: 0 }));
    rounds.ours.push(await load({ duration: ROUND_S, ...options.ours, warmupSeconds: 0 }));
  }
  return rounds;
}

/** Medians of `metric` on each side and of its per-round ratio (ours / baseline). */
export function summarise(rounds: Rounds, metric: (run: LoadResult) => number): RoundsSummary {
  const ratios = rounds.ours.map((run, i) => metric(run) / metric(rounds.baseline[i]!));
  return {
    ours: median(rounds.ours.map(metric)),
    baseline: median(rounds.baseline.map(metric)),
    ratio: median(ratios),
    spread: [Math.min(...ratios), Math.max(...ratios)],
  };
}

/** Requests that were not a 2xx answer (errors, timeouts, non-2xx statuses) over every round of one side. */
export function failedRequests(runs: LoadResult[]): number {
  return runs.reduce((sum, run) => sum + run.errors + run.non2xx, 0);
}
