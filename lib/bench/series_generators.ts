/**
 * A per-second run (lib/series: cncfdemo-loadgen) as the bench's generator results: each
 * generator's seconds summed — responses, bytes, errors by class — and its distribution the sum of
 * its seconds' distributions, so the whole-run figures of `bench --local --per-second` are merged
 * exactly like wrk's, and every second is kept beside them.
 */
import { histogramStats, mergeHistograms } from "./histogram.ts";
import { ERROR_CLASSES, type ErrorCounts, type GeneratorResult } from "./wrk_result.ts";
import type { GeneratorSecond } from "../series/second.ts";

/** One generator's result from its seconds. */
export function generatorFromSeconds(
  generator: string,
  seconds: readonly GeneratorSecond[],
  o: { runId: string; target: string; durationS: number },
): GeneratorResult {
  const histogram = mergeHistograms(seconds.map((s) => s.histogram));
  const stats = histogramStats(histogram);
  const errors = Object.fromEntries(
    ERROR_CLASSES.map((c) => [c, seconds.reduce((n, s) => n + s.errors[c], 0)]),
  ) as ErrorCounts;
  const last = seconds.at(-1);
  return {
    generator,
    runId: o.runId,
    target: o.target,
    endedAtUnix: last ? (last.startUnixMs + (last.second + 1) * 1_000) / 1_000 : undefined,
    durationUs: o.durationS * 1e6,
    requests: seconds.reduce((n, s) => n + s.responses, 0),
    bytes: seconds.reduce((n, s) => n + s.bytes, 0),
    errors,
    latencyUs: {
      min: stats.min ?? null,
      mean: stats.mean ?? null,
      stdev: stats.stdev ?? null,
      max: stats.max ?? null,
      count: stats.count,
    },
    histogram,
  };
}
