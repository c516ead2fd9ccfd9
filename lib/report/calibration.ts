/**
 * Calibration: how well the simulated cluster predicts a real one. Only control-plane timings are
 * compared — the rollout's phases (apply, wait per wave) of like rollouts (the same components,
 * the same number of objects, the same kind of change) and the bootstrap's control-plane start —
 * and a timing is "predicted" when the simulated figure lies within 20 % of the real one:
 * |sim − real| ≤ 0.2 × real. Data-plane figures (throughput, latency, errors) never transfer:
 * simulated nodes run no containers.
 */

export const TOLERANCE = 0.2;

/** Whether a predicted time lies within the tolerance of the actual one. */
export function predicted(simMs: number, realMs: number, tolerance = TOLERANCE): boolean {
  if (!(realMs > 0)) return simMs === realMs;
  return Math.abs(simMs - realMs) <= tolerance * realMs + 1e-9;
}

/**
 * Bootstrap phases that are the control plane only, named per model (keys of the records' phases).
 * The providers start different things in different steps, so like is matched with like here;
 * AWS has no such phase (kubeadm starts the control plane on the instance, after it boots).
 */
export const CONTROL_PLANE_PHASES: readonly {
  name: string;
  keys: Readonly<Record<string, readonly string[]>>;
}[] = [
  {
    name: "Control plane started (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)",
    keys: {
      sim: ['Start control plane "<name>"'],
      local: [
        "Start › Control plane › etcd and kube-apiserver",
        "Start › Control plane › kube-controller-manager and kube-scheduler",
      ],
    },
  },
];

/** What calibration needs of a group of runs. */
export interface CalibrationInput {
  model: string;
  label: string;
  /** Groups are compared only when their `like` keys are equal. */
  like: string;
  total_ms: number;
  /** Phase key → median ms. */
  phases: Record<string, number>;
}

export interface CalibrationRow {
  stage: "bootstrap" | "rollout";
  phase: string;
  real_model: string;
  sim_group: string;
  real_group: string;
  sim_ms: number;
  real_ms: number;
  /** sim ÷ real. */
  ratio: number;
  predicted: boolean;
}

export interface Calibration {
  tolerance: number;
  rows: CalibrationRow[];
  predicted: number;
  missed: number;
  /** Why some comparisons could not be made. */
  notes: string[];
  /** What is never compared. */
  not_compared: string[];
}

const row = (
  stage: CalibrationRow["stage"],
  phase: string,
  sim: CalibrationInput,
  real: CalibrationInput,
  simMs: number,
  realMs: number,
): CalibrationRow => ({
  stage,
  phase,
  real_model: real.model,
  sim_group: sim.label,
  real_group: real.label,
  sim_ms: simMs,
  real_ms: realMs,
  ratio: realMs > 0 ? simMs / realMs : NaN,
  predicted: predicted(simMs, realMs),
});

/** Rollout phases of like sim and real groups: every phase both have, and the total. */
export function calibrateRollouts(groups: readonly CalibrationInput[]): CalibrationRow[] {
  const rows: CalibrationRow[] = [];
  const sims = groups.filter((g) => g.model === "sim");
  for (const real of groups.filter((g) => g.model !== "sim")) {
    for (const sim of sims.filter((s) => s.like === real.like)) {
      rows.push(row("rollout", "Rollout (total)", sim, real, sim.total_ms, real.total_ms));
      for (const [key, realMs] of Object.entries(real.phases)) {
        const simMs = sim.phases[key];
        if (simMs !== undefined) rows.push(row("rollout", key, sim, real, simMs, realMs));
      }
    }
  }
  return rows;
}

/** The control-plane phases of like sim and real bootstraps ({@link CONTROL_PLANE_PHASES}). */
export function calibrateBootstraps(groups: readonly CalibrationInput[]): CalibrationRow[] {
  const rows: CalibrationRow[] = [];
  const sum = (g: CalibrationInput, keys: readonly string[] | undefined) => {
    if (!keys?.length || !keys.every((k) => g.phases[k] !== undefined)) return undefined;
    return keys.reduce((s, k) => s + g.phases[k]!, 0);
  };
  const sims = groups.filter((g) => g.model === "sim");
  for (const real of groups.filter((g) => g.model !== "sim")) {
    for (const sim of sims.filter((s) => s.like === real.like)) {
      for (const p of CONTROL_PLANE_PHASES) {
        const simMs = sum(sim, p.keys["sim"]);
        const realMs = sum(real, p.keys[real.model]);
        if (simMs !== undefined && realMs !== undefined) {
          rows.push(row("bootstrap", p.name, sim, real, simMs, realMs));
        }
      }
    }
  }
  return rows;
}

/** The whole calibration section. */
export function calibrate(
  bootstraps: readonly CalibrationInput[],
  rollouts: readonly CalibrationInput[],
): Calibration {
  const rows = [...calibrateBootstraps(bootstraps), ...calibrateRollouts(rollouts)];
  const notes: string[] = [];
  const models = new Set([...bootstraps, ...rollouts].map((g) => g.model));
  const real = [...models].filter((m) => m !== "sim");
  if (!models.has("sim")) notes.push("No sim records: nothing predicted to compare.");
  if (!real.length) notes.push("No records of a real model (local, aws): nothing to compare with.");
  if (models.has("sim") && real.length && !rows.length) {
    notes.push(
      "No like runs: rollouts compare only with the same components, object count and kind of change; bootstraps only fresh with fresh, re-run with re-run, and only phases that start the control plane alone (none on aws).",
    );
  }
  return {
    tolerance: TOLERANCE,
    rows,
    predicted: rows.filter((r) => r.predicted).length,
    missed: rows.filter((r) => !r.predicted).length,
    notes,
    not_compared: [
      "throughput, latency and errors (data plane: simulated nodes run no containers)",
      "bootstrap phases that are not the control plane (binaries, nodes, add-ons, networks, cloud resources)",
    ],
  };
}
