/**
 * Background-interference figures, from the per-second series, the phase events and the CPU the
 * background pods used (cumulative CPU-seconds read at each phase's start and end):
 * foreground p50, p99 and throughput with the background off and on, their differences, and the
 * CPU-seconds the background harvested while it was on.
 */
import { CncfdemoError } from "../errors.ts";
import type { SecondSample } from "../series/merge_seconds.ts";
import { eventsOf, type ExperimentEvent } from "./events.ts";
import { secondsWithin, type WindowStats, windowStats } from "./series_window.ts";

export interface PhaseFigures extends WindowStats {
  phase: string;
  /** CPU-seconds the background pods used during the phase. */
  background_cpu_s: number;
}

export interface BackgroundFigures {
  off: PhaseFigures;
  on: PhaseFigures;
  /** on − off (ms, responses/s); percentages relative to off. */
  p50_delta_ms: number | null;
  p99_delta_ms: number | null;
  throughput_delta_per_s: number | null;
  throughput_delta_pct: number | null;
  harvested_cpu_s: number;
}

/**
 * `phase` events carry the phase's name as subject ("off" / "on") and mark its start; the next
 * phase event (or an "end" phase) ends it. `cpu` gives the background's CPU-seconds per phase.
 */
export function backgroundFigures(
  series: readonly SecondSample[],
  events: readonly ExperimentEvent[],
  cpu: Readonly<Record<string, number>>,
): BackgroundFigures {
  const phases = eventsOf(events, "phase");
  const window = (name: string): PhaseFigures => {
    const i = phases.findIndex((e) => e.subject === name);
    const end = phases[i + 1];
    if (i < 0 || !end) throw new CncfdemoError(`The "${name}" phase was not recorded whole`);
    const stats = windowStats(secondsWithin(series, phases[i]!.t_unix_ms, end.t_unix_ms));
    if (stats.seconds === 0) {
      throw new CncfdemoError(`The "${name}" phase holds no whole second of load (raise --time)`);
    }
    return { phase: name, ...stats, background_cpu_s: cpu[name] ?? 0 };
  };
  const off = window("off");
  const on = window("on");
  const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);
  const dt = diff(on.ok_per_s, off.ok_per_s);
  return {
    off,
    on,
    p50_delta_ms: diff(on.p50_ms, off.p50_ms),
    p99_delta_ms: diff(on.p99_ms, off.p99_ms),
    throughput_delta_per_s: dt,
    throughput_delta_pct: dt === null || !off.ok_per_s ? null : (100 * dt) / off.ok_per_s,
    harvested_cpu_s: on.background_cpu_s,
  };
}
