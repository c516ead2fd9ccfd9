/**
 * The bounded latency histogram a generator pushes for Prometheus (images/wrk/bench.lua writes
 * it): fixed bucket bounds, 1, 1.5, 2, 3, 5 and 7.5 per decade from 10 µs to 10 s, and +Inf —
 * 38 series per generator whatever the run, where one bucket per recorded microsecond value
 * would make thousands. Grafana's percentile panels read these buckets; the exact distribution
 * travels in the generator's JSON result (the bench reads it from the pod's log).
 */
import type { Histogram } from "./histogram.ts";

/** Bucket upper bounds in microseconds (+Inf not included). Keep equal to bench.lua's list. */
export const LATENCY_BUCKETS_US: readonly number[] = [
  10,
  15,
  20,
  30,
  50,
  75,
  100,
  150,
  200,
  300,
  500,
  750,
  1_000,
  1_500,
  2_000,
  3_000,
  5_000,
  7_500,
  10_000,
  15_000,
  20_000,
  30_000,
  50_000,
  75_000,
  100_000,
  150_000,
  200_000,
  300_000,
  500_000,
  750_000,
  1_000_000,
  1_500_000,
  2_000_000,
  3_000_000,
  5_000_000,
  7_500_000,
  10_000_000,
];

/** One cumulative bucket: samples ≤ `leUs` (Infinity: all of them). */
export type Bucket = readonly [leUs: number, cumulative: number];

/** An exact distribution as cumulative counts at the given bounds, and +Inf. */
export function bucketize(h: Histogram, bounds: readonly number[] = LATENCY_BUCKETS_US): Bucket[] {
  const out: Bucket[] = [];
  let i = 0;
  let cumulative = 0;
  for (const le of [...bounds, Infinity]) {
    while (i < h.length && h[i]![0] <= le) cumulative += h[i++]![1];
    out.push([le, cumulative]);
  }
  return out;
}
