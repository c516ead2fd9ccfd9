/**
 * Autoscaling figures, from the per-second series and the watched events only, each measured
 * from the load step:
 *   - decision: the autoscaler's desired replicas first rise above what they were at the step;
 *   - first Ready: a pod that was not Ready at the step becomes Ready;
 *   - all Ready: the Ready pods first reach the highest desired count seen after the step;
 *   - p99 under the SLO: the start of the first second from which p99 < SLO for 3 seconds in a
 *     row (or to the end), searched from the first second after the step that broke it (0 when
 *     none did); null when never.
 * A figure is null when its event never came.
 */
import { CncfdemoError } from "../errors.ts";
import type { SecondSample } from "../series/merge_seconds.ts";
import { eventsOf, type ExperimentEvent } from "./events.ts";
import { firstSustained } from "./series_window.ts";

export interface AutoscaleFigures {
  step_at_unix_ms: number;
  desired_at_step: number | null;
  max_desired: number | null;
  ready_at_step: number;
  max_ready: number;
  step_to_decision_s: number | null;
  step_to_first_ready_s: number | null;
  step_to_all_ready_s: number | null;
  step_to_p99_under_slo_s: number | null;
  slo_p99_ms: number;
}

/** Computes the figures; throws when no step event was recorded. */
export function autoscaleFigures(
  series: readonly SecondSample[],
  events: readonly ExperimentEvent[],
  sloP99Ms: number,
): AutoscaleFigures {
  const step = eventsOf(events, "step")[0];
  if (!step) throw new CncfdemoError("No load step was recorded: no autoscaling figures");
  const t = step.t_unix_ms;
  const secs = (ms: number) => (ms - t) / 1_000;
  const desired = eventsOf(events, "hpa-desired");
  const desiredAtStep = desired.filter((e) => e.t_unix_ms <= t).at(-1)?.value ?? null;
  const later = desired.filter((e) => e.t_unix_ms > t);
  const decision = later.find((e) => (e.value ?? 0) > (desiredAtStep ?? Infinity));
  const maxDesired = later.length
    ? Math.max(desiredAtStep ?? 0, ...later.map((e) => e.value ?? 0))
    : desiredAtStep;

  // Which pods were Ready at the step: replay the Ready / NotReady / deleted events up to it.
  const readyNow = new Set<string>();
  const podEvents = events.filter((e) =>
    e.kind === "pod-ready" || e.kind === "pod-not-ready" || e.kind === "pod-deleted"
  ).sort((a, b) => a.t_unix_ms - b.t_unix_ms);
  let readyAtStep = 0;
  let firstReady: ExperimentEvent | undefined;
  let allReady: ExperimentEvent | undefined;
  let maxReady = 0;
  let stepPassed = false;
  let readyBefore = new Set<string>();
  for (const e of podEvents) {
    if (!stepPassed && e.t_unix_ms > t) {
      stepPassed = true;
      readyBefore = new Set(readyNow);
      readyAtStep = readyNow.size;
    }
    if (e.kind === "pod-ready") readyNow.add(e.subject);
    else readyNow.delete(e.subject);
    if (!stepPassed) continue;
    maxReady = Math.max(maxReady, readyNow.size);
    if (e.kind === "pod-ready" && !readyBefore.has(e.subject)) firstReady ??= e;
    if (
      e.kind === "pod-ready" && maxDesired !== null && decision &&
      readyNow.size >= maxDesired && !allReady
    ) allReady = e;
  }
  if (!stepPassed) readyAtStep = readyNow.size;
  maxReady = Math.max(maxReady, readyAtStep);

  const after = series.filter((s) => s.t_unix_ms + 1_000 > t);
  const under = (s: SecondSample) => s.latency_ms.p99 !== null && s.latency_ms.p99 < sloP99Ms;
  const firstBad = after.findIndex((s) => !under(s));
  let slo: number | null;
  if (firstBad < 0) slo = 0;
  else {
    const i = firstSustained(after.slice(firstBad), under);
    slo = i < 0 ? null : Math.max(0, secs(after[firstBad + i]!.t_unix_ms));
  }
  return {
    step_at_unix_ms: t,
    desired_at_step: desiredAtStep,
    max_desired: maxDesired,
    ready_at_step: readyAtStep,
    max_ready: maxReady,
    step_to_decision_s: decision ? secs(decision.t_unix_ms) : null,
    step_to_first_ready_s: firstReady ? secs(firstReady.t_unix_ms) : null,
    step_to_all_ready_s: allReady ? secs(allReady.t_unix_ms) : null,
    step_to_p99_under_slo_s: slo,
    slo_p99_ms: sloP99Ms,
  };
}
