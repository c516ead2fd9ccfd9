/**
 * Chaos figures, from the per-second series and the kill event only:
 *   - baseline: the seconds before the kill (the first one dropped as warm-up when there are
 *     three or more): successful responses per second and p99 of their merged distribution;
 *   - time to first error: from the kill to the start of the first second with an error;
 *   - errors: every error from the kill's second on;
 *   - recovery: from the kill to the start of the first second from which throughput is ≥ 95 %
 *     of the baseline and p99 < 1.5 × the baseline's for 3 seconds in a row (or to the end),
 *     searched from the first second after the kill that was not so (0 when none was: no visible
 *     impact); null when it never recovered;
 *   - dip: the successful responses short of the baseline, from the kill's second to recovery.
 */
import { CncfdemoError } from "../errors.ts";
import type { SecondSample } from "../series/merge_seconds.ts";
import { eventsOf, type ExperimentEvent } from "./events.ts";
import { firstSustained, windowStats } from "./series_window.ts";

export interface ChaosFigures {
  kill_at_unix_ms: number;
  baseline_ok_per_s: number;
  baseline_p99_ms: number | null;
  /** Seconds from the kill to the first second with an error; null: no error. */
  time_to_first_error_s: number | null;
  errors: number;
  /** Seconds from the kill until recovered; null: never recovered before the end. */
  recovery_s: number | null;
  recovered: boolean;
  /** Successful responses short of the baseline between the kill and recovery (or the end). */
  dip_requests: number;
  /** Seconds after the kill that were measured. */
  seconds_after_kill: number;
}

const RECOVERED_THROUGHPUT = 0.95;
const RECOVERED_P99 = 1.5;

/** Computes the figures; throws when the series cannot give a baseline. */
export function chaosFigures(
  series: readonly SecondSample[],
  events: readonly ExperimentEvent[],
): ChaosFigures {
  const kill = eventsOf(events, "kill")[0];
  if (!kill) throw new CncfdemoError("No kill event was recorded: no chaos figures");
  const t = kill.t_unix_ms;
  const before = series.filter((s) => s.t_unix_ms + 1_000 <= t);
  const warm = before.length >= 3 ? before.slice(1) : before;
  if (warm.length === 0) {
    throw new CncfdemoError("No whole second of load before the kill: no baseline (raise --at)");
  }
  const base = windowStats(warm);
  const baseOk = base.ok_per_s!;
  const after = series.filter((s) => s.t_unix_ms + 1_000 > t);
  const since = (s: SecondSample) => Math.max(0, (s.t_unix_ms - t) / 1_000);
  const firstError = after.find((s) => s.errors.total > 0);
  const good = (s: SecondSample) =>
    s.errors.total === 0 && s.ok >= RECOVERED_THROUGHPUT * baseOk &&
    (base.p99_ms === null ||
      (s.latency_ms.p99 !== null && s.latency_ms.p99 < RECOVERED_P99 * base.p99_ms));
  const firstBad = after.findIndex((s) => !good(s));
  let recoveredIndex: number;
  if (firstBad < 0) {
    recoveredIndex = 0;
  } else {
    const i = firstSustained(after.slice(firstBad), good);
    recoveredIndex = i < 0 ? -1 : firstBad + i;
  }
  const recovered = recoveredIndex >= 0;
  const impacted = firstBad < 0 ? [] : after.slice(0, recovered ? recoveredIndex : after.length);
  return {
    kill_at_unix_ms: t,
    baseline_ok_per_s: baseOk,
    baseline_p99_ms: base.p99_ms,
    time_to_first_error_s: firstError ? since(firstError) : null,
    errors: after.reduce((n, s) => n + s.errors.total, 0),
    recovery_s: !recovered ? null : firstBad < 0 ? 0 : since(after[recoveredIndex]!),
    recovered,
    dip_requests: Math.round(impacted.reduce((n, s) => n + Math.max(0, baseOk - s.ok), 0)),
    seconds_after_kill: after.length,
  };
}
