/**
 * Windows of a per-second series: the seconds inside a time range, their throughput and their
 * latency merged exactly, and the first second from which a condition holds for good.
 */
import { mergeHistograms, percentile } from "../bench/histogram.ts";
import type { SecondSample } from "../series/merge_seconds.ts";

/** Seconds that lie wholly in [fromMs, toMs). */
export function secondsWithin(
  series: readonly SecondSample[],
  fromMs: number,
  toMs: number,
): SecondSample[] {
  return series.filter((s) => s.t_unix_ms >= fromMs && s.t_unix_ms + 1_000 <= toMs);
}

export interface WindowStats {
  seconds: number;
  /** Mean successful responses per second. */
  ok_per_s: number | null;
  errors: number;
  p50_ms: number | null;
  p99_ms: number | null;
}

/** Throughput, errors and latency (merged distribution) of some seconds. */
export function windowStats(seconds: readonly SecondSample[]): WindowStats {
  const h = mergeHistograms(seconds.map((s) => s.histogram));
  const ms = (us: number | undefined) => (us === undefined ? null : us / 1_000);
  return {
    seconds: seconds.length,
    ok_per_s: seconds.length ? seconds.reduce((n, s) => n + s.ok, 0) / seconds.length : null,
    errors: seconds.reduce((n, s) => n + s.errors.total, 0),
    p50_ms: ms(percentile(h, 50)),
    p99_ms: ms(percentile(h, 99)),
  };
}

/**
 * The first second (index into `seconds`) from which `ok` holds for `hold` seconds in a row (or
 * until the series ends, if it ends sooner); -1 when there is none.
 */
export function firstSustained(
  seconds: readonly SecondSample[],
  ok: (s: SecondSample) => boolean,
  hold = 3,
): number {
  for (let i = 0; i < seconds.length; i++) {
    const run = seconds.slice(i, i + hold);
    if (run.every(ok)) return i;
  }
  return -1;
}
