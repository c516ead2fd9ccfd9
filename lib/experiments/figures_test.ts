/**
 * Every experiment figure from hand-made series and events whose answers are known.
 */
import assert from "node:assert/strict";
import { latencyMs } from "../bench/merge.ts";
import type { SecondSample } from "../series/merge_seconds.ts";
import { autoscaleFigures } from "./autoscale_figures.ts";
import { backgroundFigures } from "./background_figures.ts";
import { chaosFigures } from "./chaos_figures.ts";
import type { ExperimentEvent } from "./events.ts";

const T0 = 1_700_000_000_000;

/** A second with `ok` responses all of latency `ms`, and `errors` connect errors. */
function sec(i: number, ok: number, ms: number, errors = 0): SecondSample {
  const histogram: [number, number][] = ok ? [[ms * 1_000, ok]] : [];
  return {
    second: i,
    t_unix_ms: T0 + i * 1_000,
    responses: ok,
    ok,
    bytes: ok * 100,
    errors: { connect: errors, read: 0, write: 0, status: 0, timeout: 0, total: errors },
    latency_ms: latencyMs(histogram),
    backlog: 0,
    histogram,
  };
}

/** Seconds from a list of [ok, latency ms, errors]. */
const series = (rows: [number, number, number?][]) => rows.map(([o, l, e], i) => sec(i, o, l, e));
const at = (s: number, kind: ExperimentEvent["kind"], subject = "x", value?: number) => ({
  t_unix_ms: T0 + s * 1_000,
  kind,
  subject,
  ...(value === undefined ? {} : { value }),
});

Deno.test("chaos: errors, recovery and dip of a known outage", () => {
  // Baseline 100/s at 2 ms (second 0 is warm-up); kill at 3.5 s; seconds 4–5 fail; back at 7.
  const s = series([
    [50, 9],
    [100, 2],
    [100, 2],
    [90, 2], // the kill's second: 3.0–4.0, kill at 3.5
    [0, 0, 40],
    [10, 50, 30],
    [80, 4], // still short of 95
    [100, 2],
    [99, 2],
    [100, 2],
  ]);
  const f = chaosFigures(s, [at(3.5, "kill")]);
  assert.equal(f.baseline_ok_per_s, 100);
  assert.equal(f.baseline_p99_ms, 2);
  assert.equal(f.time_to_first_error_s, 0.5); // second 4 starts 0.5 s after the kill
  assert.equal(f.errors, 70);
  assert.equal(f.recovery_s, 3.5); // second 7 starts 3.5 s after the kill
  assert.equal(f.recovered, true);
  assert.equal(f.dip_requests, 10 + 100 + 90 + 20);
});

Deno.test("chaos: never recovered, and no errors at all", () => {
  const never = chaosFigures(series([[100, 2], [100, 2], [100, 2], [0, 0, 5], [50, 2], [50, 2]]), [
    at(3, "kill"),
  ]);
  assert.equal(never.recovered, false);
  assert.equal(never.recovery_s, null);
  assert.equal(never.time_to_first_error_s, 0);
  assert.equal(never.dip_requests, 100 + 50 + 50);

  const calm = chaosFigures(series([[100, 2], [100, 2], [100, 2], [100, 2], [98, 2]]), [
    at(3, "kill"),
  ]);
  assert.equal(calm.errors, 0);
  assert.equal(calm.time_to_first_error_s, null);
  assert.equal(calm.recovery_s, 0);
  assert.equal(calm.dip_requests, 0);
  assert.throws(() => chaosFigures(series([[1, 1]]), []), /No kill event/);
  assert.throws(() => chaosFigures(series([[1, 1], [1, 1]]), [at(0.5, "kill")]), /baseline/);
});

Deno.test("chaos: slow but error-free seconds count as not recovered (p99 ≥ 1.5 × baseline)", () => {
  const f = chaosFigures(
    series([[100, 2], [100, 2], [100, 2], [100, 2], [100, 3], [100, 2], [100, 2], [100, 2]]),
    [at(3, "kill")],
  );
  assert.equal(f.errors, 0);
  assert.equal(f.recovery_s, 2); // second 4 had p99 3 ms = 1.5 × 2: not under
  assert.equal(f.dip_requests, 0);
});

Deno.test("autoscale: step, decision, first and all Ready, p99 under the SLO", () => {
  const s = series([
    [100, 5],
    [100, 5],
    [300, 80], // step at 2
    [300, 90],
    [300, 60],
    [300, 40],
    [300, 8],
    [300, 7],
    [300, 6],
  ]);
  const events = [
    at(0, "hpa-desired", "hpa", 1),
    at(0, "pod-ready", "web-a"),
    at(2, "step", "rate", 300),
    at(3.5, "hpa-desired", "hpa", 3),
    at(5, "pod-ready", "web-b"),
    at(5.25, "pod-ready", "web-a"), // already Ready: not a new pod
    at(6, "pod-ready", "web-c"),
  ];
  const f = autoscaleFigures(s, events, 10);
  assert.equal(f.desired_at_step, 1);
  assert.equal(f.max_desired, 3);
  assert.equal(f.ready_at_step, 1);
  assert.equal(f.max_ready, 3);
  assert.equal(f.step_to_decision_s, 1.5);
  assert.equal(f.step_to_first_ready_s, 3);
  assert.equal(f.step_to_all_ready_s, 4);
  assert.equal(f.step_to_p99_under_slo_s, 4);
  assert.ok(f.step_to_decision_s! < f.step_to_first_ready_s!);
});

Deno.test("autoscale: no decision, never under the SLO", () => {
  const f = autoscaleFigures(
    series([[100, 5], [100, 50], [100, 50], [100, 50]]),
    [at(0, "hpa-desired", "hpa", 1), at(0, "pod-ready", "web-a"), at(1, "step", "rate", 200)],
    10,
  );
  assert.equal(f.step_to_decision_s, null);
  assert.equal(f.step_to_first_ready_s, null);
  assert.equal(f.step_to_all_ready_s, null);
  assert.equal(f.step_to_p99_under_slo_s, null);
  assert.equal(f.max_desired, 1);
});

Deno.test("background: both phases, deltas and harvested CPU", () => {
  const off = series([[100, 2], [100, 2], [100, 4]]);
  const on = [sec(10, 80, 3), sec(11, 80, 3), sec(12, 80, 9)];
  const events = [
    at(0, "phase", "off"),
    at(3, "phase", "switching"),
    at(10, "phase", "on"),
    at(13, "phase", "end"),
  ];
  const f = backgroundFigures([...off, ...on], events, { off: 0, on: 5.5 });
  assert.equal(f.off.seconds, 3);
  assert.equal(f.on.seconds, 3);
  assert.equal(f.off.p50_ms, 2);
  assert.equal(f.on.p50_ms, 3);
  assert.equal(f.off.p99_ms, 4);
  assert.equal(f.on.p99_ms, 9);
  assert.equal(f.p99_delta_ms, 5);
  assert.equal(f.throughput_delta_per_s, -20);
  assert.equal(f.throughput_delta_pct, -20);
  assert.equal(f.harvested_cpu_s, 5.5);
  assert.throws(() => backgroundFigures(off, [at(0, "phase", "off")], {}), /not recorded whole/);
});
