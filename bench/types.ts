/** One row of the `npm run bench` table: a measurement, and its ratio to a baseline measured in the same run. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** The same measurement on the baseline (e.g. express.static, a hello-world server). */
  baseline?: number;
  /** value / baseline (or the inverse for lower-is-better metrics; `target` says which). */
  ratio?: number;
  /** The lowest and highest per-round ratio, when the row is the median of alternating rounds. */
  spread?: [number, number];
  /** Human-readable target, e.g. "≥ 0.9× express.static". */
  target?: string;
  pass?: boolean;
}
