import assert from "node:assert/strict";
import {
  calibrate,
  calibrateBootstraps,
  calibrateRollouts,
  type CalibrationInput,
  predicted,
} from "./calibration.ts";

Deno.test("calibration rule: predicted when |sim − real| ≤ 20 % of real", () => {
  assert.ok(predicted(120, 100));
  assert.ok(predicted(80, 100));
  assert.ok(predicted(100, 100));
  assert.ok(!predicted(121, 100));
  assert.ok(!predicted(79, 100));
  assert.ok(!predicted(10, 1_000)); // a simulated wait that skips container start-up
  assert.ok(predicted(0, 0));
  assert.ok(!predicted(1, 0));
});

const group = (
  model: string,
  like: string,
  total: number,
  phases: Record<string, number>,
): CalibrationInput => ({ model, label: `${model} ${like}`, like, total_ms: total, phases });

Deno.test("calibration of rollouts: every phase both like runs have, and the total; unlike runs never", () => {
  const sim = group("sim", "A", 10_000, { "Apply in waves": 9_000, "Read the live state": 20 });
  const local = group("local", "A", 11_000, {
    "Apply in waves": 30_000,
    "Read the live state": 22,
    "Only on local": 5,
  });
  const other = group("local", "B", 10_000, { "Apply in waves": 9_000 }); // other components
  const rows = calibrateRollouts([sim, local, other]);
  assert.deepEqual(
    rows.map((r) => [r.phase, r.real_model, r.sim_ms, r.real_ms, r.predicted]),
    [
      ["Rollout (total)", "local", 10_000, 11_000, true],
      ["Apply in waves", "local", 9_000, 30_000, false],
      ["Read the live state", "local", 20, 22, true],
    ],
  );
  assert.ok(Math.abs(rows[1]!.ratio - 0.3) < 1e-9);
});

Deno.test("calibration of bootstraps: the control plane's start, matched per model; fresh with fresh", () => {
  const sim = group("sim", "false", 3_000, { 'Start control plane "<name>"': 2_000 });
  const local = group("local", "false", 60_000, {
    "Start › Control plane › etcd and kube-apiserver": 1_500,
    "Start › Control plane › kube-controller-manager and kube-scheduler": 700,
  });
  const rerun = group("local", "true", 5_000, {
    "Start › Control plane › etcd and kube-apiserver": 10,
    "Start › Control plane › kube-controller-manager and kube-scheduler": 10,
  });
  const aws = group("aws", "false", 300_000, { VPC: 1_000 });
  const rows = calibrateBootstraps([sim, local, rerun, aws]);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.real_ms, 2_200);
  assert.equal(rows[0]!.sim_ms, 2_000);
  assert.equal(rows[0]!.predicted, true);

  const c = calibrate([sim, local, aws], []);
  assert.equal(c.predicted, 1);
  assert.equal(c.missed, 0);
  assert.deepEqual(c.notes, []);
  assert.match(c.not_compared.join("; "), /throughput, latency and errors/);
  assert.deepEqual(calibrate([sim], []).notes, [
    "No records of a real model (local, aws): nothing to compare with.",
  ]);
  assert.match(calibrate([sim, rerun], []).notes[0]!, /^No like runs/);
});
