/**
 * Exact latency distributions: every recorded value (an integer, microseconds) with its count,
 * sorted by value — what wrk's stats object holds. Merging adds counts per value, so percentiles
 * of a merge are the percentiles of the union of the recorded samples, not an average of
 * per-generator percentiles (the mistake of k6-operator#812).
 *
 * Percentiles use the nearest-rank definition: the p-th percentile of N samples is the smallest
 * value whose cumulative count reaches ceil(p/100 × N) (at least 1).
 */

/** `[value, count]` pairs, values strictly increasing, counts > 0. */
export type Histogram = ReadonlyArray<readonly [number, number]>;

/** Sums histograms value by value. */
export function mergeHistograms(histograms: readonly Histogram[]): Histogram {
  const counts = new Map<number, number>();
  for (const h of histograms) {
    for (const [v, c] of h) counts.set(v, (counts.get(v) ?? 0) + c);
  }
  return [...counts.entries()].filter(([, c]) => c > 0).sort((a, b) => a[0] - b[0]);
}

/** Checks the shape of a histogram; returns what is wrong, or undefined. */
export function histogramProblem(h: unknown): string | undefined {
  if (!Array.isArray(h)) return "not a list";
  let last = -Infinity;
  for (const [i, pair] of h.entries()) {
    if (!Array.isArray(pair) || pair.length !== 2) return `entry ${i} is not a [value, count] pair`;
    const [v, c] = pair as unknown[];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      return `entry ${i} has value ${String(v)}, not a whole number ≥ 0`;
    }
    if (typeof c !== "number" || !Number.isSafeInteger(c) || c <= 0) {
      return `entry ${i} has count ${String(c)}, not a whole number ≥ 1`;
    }
    if (v <= last) return `entry ${i} is out of order`;
    last = v;
  }
  return undefined;
}

/** Total number of samples. */
export function totalCount(h: Histogram): number {
  let n = 0;
  for (const [, c] of h) n += c;
  return n;
}

/** The p-th percentile (0 < p ≤ 100) by nearest rank; undefined for an empty histogram. */
export function percentile(h: Histogram, p: number): number | undefined {
  const n = totalCount(h);
  if (n === 0) return undefined;
  // p × n / 100 with a guard against 99.9 × 1000 / 100 = 999.0000000000001
  const exact = (p * n) / 100;
  const rank = Math.max(1, Math.ceil(exact - 1e-9 * Math.max(1, exact)));
  let cumulative = 0;
  for (const [v, c] of h) {
    cumulative += c;
    if (cumulative >= rank) return v;
  }
  return h[h.length - 1]![0];
}

export interface HistogramStats {
  count: number;
  min: number | undefined;
  max: number | undefined;
  mean: number | undefined;
  /** Sample standard deviation (n − 1), as wrk computes it. */
  stdev: number | undefined;
}

/** Count, min, max, mean and standard deviation of the samples. */
export function histogramStats(h: Histogram): HistogramStats {
  const count = totalCount(h);
  if (count === 0) {
    return { count, min: undefined, max: undefined, mean: undefined, stdev: undefined };
  }
  let sum = 0;
  for (const [v, c] of h) sum += v * c;
  const mean = sum / count;
  let squares = 0;
  for (const [v, c] of h) squares += c * (v - mean) ** 2;
  return {
    count,
    min: h[0]![0],
    max: h[h.length - 1]![0],
    mean,
    stdev: count > 1 ? Math.sqrt(squares / (count - 1)) : undefined,
  };
}
