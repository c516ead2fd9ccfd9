/**
 * The report's content, from the records of a results directory: records grouped by model and by
 * the parameters that make runs alike (a changed parameter starts a new group, so unlike runs are
 * never compared as like), each group's figures (median over its runs), costs at the given
 * prices, the phase timelines for the Gantt chart, and the calibration of sim against real models.
 * Pure: the same records and prices give the same report (`--format json` prints it).
 */
import { spectrum } from "../bench/html_report.ts";
import type { BenchParams, BenchResult } from "../bench/result.ts";
import { formatBytes, formatCpu } from "../quantity.ts";
import { COMPONENTS } from "../stack/components.ts";
import { calibrate, type Calibration, type CalibrationInput } from "./calibration.ts";
import { clusterCost, type Cost, costPerMillion, localCostPerHour, type Prices } from "./prices.ts";
import type { Records } from "./read.ts";
import {
  type BootstrapRecord,
  modelOfContext,
  type NodesInfo,
  type ParamValue,
  type PhaseRecord,
  type RolloutRecord,
} from "./schema.ts";

export const REPORT_SCHEMA = "cncfdemo.report/v1";

export interface Stat {
  n: number;
  median: number;
  min: number;
  max: number;
}

/** Median (mean of the middle two for an even count), min and max; null for no values. */
export function stat(values: readonly number[]): Stat | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { n: v.length, median, min: v[0]!, max: v[v.length - 1]! };
}

export interface PhaseStat {
  key: string;
  depth: number;
  group: boolean;
  ms: Stat;
}

export interface GroupBase {
  /** What makes runs alike, as text: equal keys, like runs. */
  key: string;
  label: string;
  model: string;
  /** Record ids, oldest first. */
  runs: string[];
  commands: string[];
  total_ms: Stat;
  phases: PhaseStat[];
  first_good_request_ms: Stat | null;
  first_good_request_note: string | null;
}

export interface BootstrapGroup extends GroupBase {
  provider: string;
  params: Record<string, ParamValue>;
  existed: boolean | null;
  nodes: NodesInfo;
  region: string | null;
  endpoint: string | null;
  cost: Cost;
}

export interface RolloutGroup extends GroupBase {
  components: string[];
  objects: number;
  /** fresh (everything created), update, unchanged. */
  change: "fresh" | "update" | "unchanged";
  nodes: number;
}

export interface BenchGroup {
  key: string;
  label: string;
  model: string;
  mode: "in-cluster" | "local wrk";
  target: string;
  params: BenchParams;
  nodes: number | null;
  types: Record<string, number>;
  runs: string[];
  rps: Stat;
  /** The run with the median throughput: its figures are the group's. */
  representative: {
    id: string;
    rps: number;
    requests: number;
    errors: number;
    p50: number | null;
    p99: number | null;
    p99_9: number | null;
  };
  errors_total: number;
  requests_total: number;
  cost: Cost;
  /** USD per million requests at the representative run's throughput (with its p99). */
  usd_per_million: number | null;
  spectrum: [number, number][];
}

export interface ExperimentRow {
  id: string;
  kind: string;
  started_at: string;
  params: Record<string, unknown>;
  figures: Record<string, unknown>;
}

export interface ModelSection {
  model: string;
  title: string;
  bootstrap: BootstrapGroup[];
  rollout: RolloutGroup[];
  bench: BenchGroup[];
  experiments: ExperimentRow[];
}

export interface GanttRow {
  model: string;
  /** The command the phase belongs to, and which record. */
  command: string;
  kind: "bootstrap" | "rollout" | "first good request";
  label: string;
  depth: number;
  start_ms: number;
  end_ms: number;
}

export interface Report {
  schema: typeof REPORT_SCHEMA;
  generated_at: string;
  results_dir: string;
  counts: {
    bench: number;
    bootstrap: number;
    rollout: number;
    experiment: number;
    skipped: number;
  };
  models: ModelSection[];
  gantt: GanttRow[];
  calibration: Calibration;
  prices: Prices & { local_usd_per_hour: number };
  skipped: { file: string; why: string }[];
}

const TITLES: Record<string, string> = {
  sim: "sim — simulated cluster (real control plane, kwok nodes)",
  local: "local — a real node on this machine",
  aws: "aws — kubeadm on EC2",
  kubernetes: "kubernetes — another cluster",
};
const ORDER = ["sim", "local", "aws", "kubernetes"];

/** A stable text of a value (object keys sorted), for group keys. */
function keyOf(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
        : v,
  );
}

/** Median time per phase key over runs, in the order of the latest run (others after). */
function phaseStats(records: readonly PhaseRecord[]): PhaseStat[] {
  const order: { key: string; depth: number; group: boolean }[] = [];
  const seen = new Set<string>();
  for (const r of [...records].reverse()) {
    for (const p of r.phases) {
      if (seen.has(p.key)) continue;
      seen.add(p.key);
      order.push({ key: p.key, depth: p.depth, group: p.group });
    }
  }
  return order.map((o) => ({
    ...o,
    ms: stat(records.flatMap((r) => r.phases.filter((p) => p.key === o.key).map((p) => p.ms)))!,
  }));
}

function firstRequest(records: readonly PhaseRecord[]): Pick<
  GroupBase,
  "first_good_request_ms" | "first_good_request_note"
> {
  const ms = records.flatMap((r) => (r.first_good_request ? [r.first_good_request.ms] : []));
  const notes = [...new Set(records.flatMap((r) => r.first_good_request_note ?? []))];
  return {
    first_good_request_ms: stat(ms),
    first_good_request_note: ms.length ? null : notes.join("; ") || null,
  };
}

function base(records: readonly PhaseRecord[], key: string, label: string): GroupBase {
  return {
    key,
    label,
    model: records[0]!.model,
    runs: records.map((r) => r.id),
    commands: [...new Set(records.map((r) => r.command))],
    total_ms: stat(records.map((r) => r.total_ms))!,
    phases: phaseStats(records),
    ...firstRequest(records),
  };
}

function bootstrapLabel(r: BootstrapRecord): string {
  const p = r.params;
  let what: string;
  if (r.provider === "sim") {
    const cpu = typeof p.node_cpu === "number" ? `${formatCpu(p.node_cpu)} CPU` : "";
    const mem = typeof p.node_memory === "number" ? formatBytes(p.node_memory) : "";
    const pods = typeof p.node_pods === "number" ? `${p.node_pods} pods` : "";
    what = `${r.nodes.count} kwok node${r.nodes.count === 1 ? "" : "s"} (${
      [cpu, mem, pods].filter(Boolean).join(", ")
    })`;
  } else if (r.provider === "local") {
    what = `1 node, images ${p.images ?? "auto"}`;
  } else {
    what = `${p.masters ?? "?"} master + ${p.minions ?? "?"} minions, ${
      Object.keys(r.nodes.types).join(", ")
    }, ${r.region ?? "region ?"}${p.wait === false ? ", --no-wait" : ""}`;
  }
  const existed = r.existed === null ? "" : r.existed ? " · re-run (cluster existed)" : " · fresh";
  const endpoint = r.endpoint ? ` · API endpoint ${r.endpoint} (not AWS)` : "";
  return `${what}${existed}${endpoint}`;
}

function rolloutLabel(r: RolloutRecord, change: RolloutGroup["change"]): string {
  const off = COMPONENTS.filter((c) => !r.components.includes(c));
  const n = r.nodes.count;
  return `${r.objects} objects (${
    off.length ? `off: ${off.join(", ")}` : "every component"
  }) · ${change} · ${n} node${n === 1 ? "" : "s"}`;
}

function changeOf(r: RolloutRecord): RolloutGroup["change"] {
  const o = r.outcome;
  if (o.created + o.configured + o.pruned === 0) return "unchanged";
  if (o.configured === 0 && o.unchanged === 0 && o.pruned === 0) return "fresh";
  return "update";
}

/** The model of a benchmark: from its cluster facts, or our context names, or local wrk. */
export function benchModel(r: BenchResult): string {
  return modelOfContext(r.model, r.cluster?.context);
}

/** A bench target without its run id (Countly's device ids carry it). */
function genericTarget(r: BenchResult): string {
  return r.target.replaceAll(r.id, "<run>");
}

function benchLabel(g: { target: string; params: BenchParams; mode: string }): string {
  const p = g.params;
  return `${g.target} · ${p.parallelism}×${p.connections}c ${p.threads}t ${p.duration_s}s${
    g.mode === "local wrk" ? " · wrk on this machine" : ""
  }`;
}

/** The pricing of a cluster a benchmark ran on, with its bootstrap record when there is one. */
function benchCost(
  r: BenchResult,
  model: string,
  bootstraps: readonly BootstrapRecord[],
  p: Prices,
): Cost {
  if (!r.cluster) return clusterCost({ model: "local", types: {} }, p);
  const boot = [...bootstraps].reverse().find((b) => b.cluster.context === r.cluster!.context);
  const types = Object.keys(r.cluster.instance_types).length
    ? r.cluster.instance_types
    : boot?.nodes.types ?? {};
  return clusterCost({ model, types, region: boot?.region ?? null }, p);
}

/** Builds the report from records and prices. */
export function analyze(
  rec: Records,
  prices: Prices,
  o: { resultsDir: string; now?: Date },
): Report {
  const bootstrapGroups = [
    ...Map.groupBy(
      rec.bootstrap,
      (r) => keyOf([r.model, r.provider, r.params, r.nodes.types, r.existed, r.endpoint !== null]),
    )
      .entries(),
  ].map(([key, rs]): BootstrapGroup => {
    const last = rs[rs.length - 1]!;
    return {
      ...base(rs, key, bootstrapLabel(last)),
      provider: last.provider,
      params: last.params,
      existed: last.existed,
      nodes: last.nodes,
      region: last.region,
      endpoint: last.endpoint,
      cost: clusterCost(
        { model: last.model, types: last.nodes.types, region: last.region },
        prices,
      ),
    };
  });

  const rolloutGroups = [
    ...Map.groupBy(
      rec.rollout,
      (r) => keyOf([r.model, r.components, r.objects, changeOf(r), r.nodes.count, r.values_digest]),
    )
      .entries(),
  ].map(([key, rs]): RolloutGroup => {
    const last = rs[rs.length - 1]!;
    const change = changeOf(last);
    return {
      ...base(rs, key, rolloutLabel(last, change)),
      components: last.components,
      objects: last.objects,
      change,
      nodes: last.nodes.count,
    };
  });

  const benchGroups = [
    ...Map.groupBy(rec.bench, (r) =>
      keyOf([
        benchModel(r),
        r.cluster ? "in-cluster" : "local wrk",
        genericTarget(r),
        r.params,
        r.cluster?.nodes ?? null,
        r.cluster?.instance_types ?? {},
      ])).entries(),
  ].map(([key, rs]): BenchGroup => {
    const sorted = [...rs].sort((a, b) => a.rps - b.rps);
    const rep = sorted[Math.floor((sorted.length - 1) / 2)]!;
    const model = benchModel(rep);
    const mode = rep.cluster ? "in-cluster" as const : "local wrk" as const;
    const cost = benchCost(rep, model, rec.bootstrap, prices);
    const g = { target: genericTarget(rep), params: rep.params, mode };
    return {
      key,
      label: benchLabel(g),
      model,
      ...g,
      nodes: rep.cluster?.nodes ?? null,
      types: rep.cluster?.instance_types ?? {},
      runs: rs.map((r) => r.id),
      rps: stat(rs.map((r) => r.rps))!,
      representative: {
        id: rep.id,
        rps: rep.rps,
        requests: rep.requests,
        errors: rep.errors.total,
        p50: rep.latency_ms.p50,
        p99: rep.latency_ms.p99,
        p99_9: rep.latency_ms.p99_9,
      },
      errors_total: rs.reduce((n, r) => n + r.errors.total, 0),
      requests_total: rs.reduce((n, r) => n + r.requests, 0),
      cost,
      usd_per_million: cost.usd_per_hour === null
        ? null
        : costPerMillion(cost.usd_per_hour, rep.rps),
      spectrum: spectrum(rep.histogram ?? []),
    };
  });

  const experiments = rec.experiment.map((e) => ({
    model: modelOfContext(e.model ?? e.cluster?.model ?? "kubernetes", e.cluster?.context),
    row: {
      id: e.id,
      kind: e.kind,
      started_at: e.started_at,
      params: e.params ?? {},
      figures: e.figures,
    } satisfies ExperimentRow,
  }));

  const models = [
    ...new Set([
      ...bootstrapGroups.map((g) => g.model),
      ...rolloutGroups.map((g) => g.model),
      ...benchGroups.map((g) => g.model),
      ...experiments.map((e) => e.model),
    ]),
  ].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));

  const sections = models.map((model): ModelSection => ({
    model,
    title: TITLES[model] ?? model,
    bootstrap: bootstrapGroups.filter((g) => g.model === model),
    rollout: rolloutGroups.filter((g) => g.model === model),
    bench: benchGroups.filter((g) => g.model === model),
    experiments: experiments.filter((e) => e.model === model).map((e) => e.row),
  }));

  const medians = (g: GroupBase) => Object.fromEntries(g.phases.map((p) => [p.key, p.ms.median]));
  const calibration = calibrate(
    bootstrapGroups.map((g): CalibrationInput => ({
      model: g.model,
      label: g.label,
      like: String(g.existed),
      total_ms: g.total_ms.median,
      phases: medians(g),
    })),
    rolloutGroups.map((g): CalibrationInput => ({
      model: g.model,
      label: g.label,
      like: keyOf([g.components, g.objects, g.change]),
      total_ms: g.total_ms.median,
      phases: medians(g),
    })),
  );

  return {
    schema: REPORT_SCHEMA,
    generated_at: (o.now ?? new Date()).toISOString(),
    results_dir: o.resultsDir,
    counts: {
      bench: rec.bench.length,
      bootstrap: rec.bootstrap.length,
      rollout: rec.rollout.length,
      experiment: rec.experiment.length,
      skipped: rec.skipped.length,
    },
    models: sections,
    gantt: gantt(rec, models),
    calibration,
    prices: { ...prices, local_usd_per_hour: localCostPerHour(prices.local) },
    skipped: rec.skipped,
  };
}

function rank(model: string): number {
  const i = ORDER.indexOf(model);
  return i < 0 ? ORDER.length : i;
}

/**
 * The phase timelines of each model's latest fresh bootstrap (else its latest) and the rollout of
 * the same command when the demo made both (else the latest rollout), each on its command's
 * clock; phases down to depth 2.
 */
export function gantt(rec: Records, models: readonly string[]): GanttRow[] {
  const rows: GanttRow[] = [];
  for (const model of models) {
    const boots = rec.bootstrap.filter((r) => r.model === model);
    const boot = boots.findLast((r) => r.existed === false) ?? boots.at(-1);
    const rolls = rec.rollout.filter((r) => r.model === model);
    const roll = (boot && rolls.filter((r) => r.session === boot.session).at(-1)) ?? rolls.at(-1);
    for (const r of [boot, roll]) {
      if (!r) continue;
      const kind = r.schema === "cncfdemo.bootstrap/v1" ? "bootstrap" as const : "rollout" as const;
      for (const p of r.phases) {
        if (p.depth > 2) continue;
        rows.push({
          model,
          command: r.command,
          kind,
          label: `${"  ".repeat(p.depth)}${p.name}`,
          depth: p.depth,
          start_ms: p.start_ms,
          end_ms: p.start_ms + p.ms,
        });
      }
    }
    const first = (roll ?? boot)?.first_good_request;
    if (first) {
      rows.push({
        model,
        command: (roll ?? boot)!.command,
        kind: "first good request",
        label: "first good request",
        depth: 0,
        start_ms: 0,
        end_ms: first.ms,
      });
    }
  }
  return rows;
}
