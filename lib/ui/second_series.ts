/**
 * One second of load (lib/series: merged across the generators) as the view's live series:
 * throughput (successful responses and errors per second), latency percentiles, errors by class.
 * The bench (`--per-second`) and the experiments hand every second to it, and their events to
 * {@link showMark}.
 */
import type { SecondSample } from "../series/merge_seconds.ts";
import { ERROR_CLASSES } from "../bench/wrk_result.ts";
import { emitUi } from "./emit.ts";

/** Names of the charts, for tests and the page. */
export const SECOND_CHARTS = {
  throughput: "throughput (responses/s)",
  latency: "latency (ms)",
  errors: "errors (/s)",
} as const;

/** Shows a second at its end, on the process's clock. */
export function showSecond(s: SecondSample): void {
  const t = s.t_unix_ms + 1_000 - performance.timeOrigin;
  const l = s.latency_ms;
  emitUi({ type: "series", t, name: SECOND_CHARTS.throughput, values: { ok: s.ok } });
  emitUi({
    type: "series",
    t,
    name: SECOND_CHARTS.latency,
    values: { p50: l.p50, p90: l.p90, p99: l.p99 },
  });
  emitUi({
    type: "series",
    t,
    name: SECOND_CHARTS.errors,
    values: Object.fromEntries(ERROR_CLASSES.map((c) => [c, s.errors[c]])),
  });
}

/** Marks an event (a pod killed, a replica added) on every chart at its time (ms since the epoch). */
export function showMark(tUnixMs: number, label: string): void {
  emitUi({ type: "mark", t: tUnixMs - performance.timeOrigin, label });
}
