/**
 * The report laid out once as blocks (headings, paragraphs, tables of plain text, chart slots),
 * rendered by `markdown.ts` and `html.ts`: both formats say the same thing.
 */
import { formatDuration } from "../duration.ts";
import type { BenchGroup, GroupBase, ModelSection, Report, Stat } from "./analyze.ts";
import { type Cost, fmtUsd } from "./prices.ts";

export interface Table {
  head: string[];
  rows: string[][];
  /** Right-align every column but the first. */
  numeric?: boolean;
}

export type Block =
  | { kind: "heading"; level: 1 | 2 | 3 | 4; text: string }
  | { kind: "text"; text: string; note?: boolean }
  | { kind: "table"; table: Table }
  | { kind: "list"; items: string[] }
  | { kind: "chart"; chart: "spectra" | "gantt"; title: string };

export const DASH = "–";

export function ms(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? DASH : formatDuration(v);
}

/** A median with its range when runs differ: `2.1s (1.9s–2.4s, 3 runs)`. */
export function msStat(s: Stat | null | undefined): string {
  if (!s) return DASH;
  if (s.n === 1) return ms(s.median);
  return `${ms(s.median)} (${ms(s.min)}–${ms(s.max)}, ${s.n} runs)`;
}

export function num(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH;
  return v.toLocaleString("en-US", { maximumFractionDigits: digits });
}

export function costText(c: Cost): string {
  return c.usd_per_hour === null ? `${DASH} (${c.why})` : `${fmtUsd(c.usd_per_hour)}/h`;
}

function perMillion(g: BenchGroup): string {
  if (g.usd_per_million === null) return DASH;
  return `${fmtUsd(g.usd_per_million)} at ${num(g.representative.rps, 1)} req/s, p99 ${
    num(g.representative.p99, 2)
  } ms`;
}

const indent = (depth: number) => "· ".repeat(depth);

function phaseTable(g: GroupBase): Table {
  return {
    head: ["phase", g.runs.length > 1 ? `median of ${g.runs.length} runs` : "time", "range"],
    rows: g.phases.map((p) => [
      `${indent(p.depth)}${p.key.split(" › ").at(-1)}`,
      ms(p.ms.median),
      p.ms.n > 1 ? `${ms(p.ms.min)}–${ms(p.ms.max)}` : "",
    ]),
    numeric: true,
  };
}

function firstRequestText(g: GroupBase): string {
  if (g.first_good_request_ms) return msStat(g.first_good_request_ms);
  return g.first_good_request_note ? `${DASH} (${g.first_good_request_note})` : DASH;
}

/** The headline: each model in one row, from its latest configuration of each kind. */
function overview(r: Report): Table {
  return {
    head: [
      "model",
      "bootstrap (fresh)",
      "first good request",
      "rollout (fresh)",
      "requests/s",
      "p50 / p99 / p99.9 ms",
      "errors",
      "cost/hour",
      "cost per million requests",
    ],
    rows: r.models.map((m) => {
      // Fresh runs first: a re-run that finds everything in place says little about the model.
      const b = m.bootstrap.findLast((g) => g.existed === false) ?? m.bootstrap.at(-1);
      const ro = m.rollout.findLast((g) => g.change === "fresh") ?? m.rollout.at(-1);
      const be = m.bench.at(-1);
      const firstFrom = [...m.bootstrap, ...m.rollout].find((g) => g.first_good_request_ms);
      const cost = be?.cost ?? b?.cost;
      return [
        m.model,
        b ? ms(b.total_ms.median) : DASH,
        firstFrom ? ms(firstFrom.first_good_request_ms!.median) : DASH,
        ro ? ms(ro.total_ms.median) : DASH,
        be ? num(be.representative.rps, 1) : DASH,
        be
          ? `${num(be.representative.p50)} / ${num(be.representative.p99)} / ${
            num(be.representative.p99_9)
          }`
          : DASH,
        be ? num(be.representative.errors, 0) : DASH,
        cost ? costText(cost) : DASH,
        be ? perMillion(be) : DASH,
      ];
    }),
    numeric: true,
  };
}

function modelBlocks(m: ModelSection): Block[] {
  const out: Block[] = [{ kind: "heading", level: 2, text: m.title }];
  if (m.bootstrap.length) {
    out.push({ kind: "heading", level: 3, text: "Bootstrap" });
    out.push({
      kind: "table",
      table: {
        head: ["configuration", "runs", "total", "first good request", "cost/hour", "cost basis"],
        rows: m.bootstrap.map((g) => [
          g.label,
          `${g.runs.length} (${g.commands.join(", ")})`,
          msStat(g.total_ms),
          firstRequestText(g),
          costText(g.cost),
          g.cost.usd_per_hour === null ? "" : g.cost.basis,
        ]),
      },
    });
    for (const g of m.bootstrap) {
      out.push({ kind: "heading", level: 4, text: `Phases: ${g.label}` });
      out.push({ kind: "table", table: phaseTable(g) });
    }
  }
  if (m.rollout.length) {
    out.push({ kind: "heading", level: 3, text: "Rollout" });
    out.push({
      kind: "table",
      table: {
        head: ["configuration", "runs", "total", "first good request"],
        rows: m.rollout.map((g) => [
          g.label,
          `${g.runs.length} (${g.commands.join(", ")})`,
          msStat(g.total_ms),
          firstRequestText(g),
        ]),
      },
    });
    for (const g of m.rollout) {
      out.push({ kind: "heading", level: 4, text: `Phases: ${g.label}` });
      out.push({ kind: "table", table: phaseTable(g) });
    }
  }
  if (m.bench.length) {
    out.push({ kind: "heading", level: 3, text: "Benchmarks" });
    out.push({
      kind: "table",
      table: {
        head: [
          "target and load",
          "runs",
          "requests/s",
          "p50 ms",
          "p99 ms",
          "p99.9 ms",
          "errors",
          "cost/hour",
          "cost per million requests",
        ],
        rows: m.bench.map((g) => [
          g.label,
          String(g.runs.length),
          g.rps.n > 1
            ? `${num(g.representative.rps, 1)} (${num(g.rps.min, 1)}–${num(g.rps.max, 1)})`
            : num(g.representative.rps, 1),
          num(g.representative.p50, 3),
          num(g.representative.p99, 3),
          num(g.representative.p99_9, 3),
          `${num(g.errors_total, 0)} of ${num(g.requests_total + g.errors_total, 0)}`,
          costText(g.cost),
          perMillion(g),
        ]),
        numeric: true,
      },
    });
  }
  if (m.experiments.length) {
    out.push({ kind: "heading", level: 3, text: "Experiments" });
    out.push({
      kind: "table",
      table: {
        head: ["experiment", "run", "figures"],
        rows: m.experiments.map((e) => [
          e.kind,
          e.id,
          Object.entries(e.figures).map(([k, v]) =>
            `${k}: ${typeof v === "number" ? num(v, 3) : JSON.stringify(v)}`
          ).join("; "),
        ]),
      },
    });
  }
  return out;
}

function calibrationBlocks(r: Report): Block[] {
  const c = r.calibration;
  const out: Block[] = [
    { kind: "heading", level: 2, text: "Calibration: what the simulated cluster predicts" },
    {
      kind: "text",
      text: `A control-plane timing is predicted when the sim figure lies within ${
        c.tolerance * 100
      } % of the real one (|sim − real| ≤ ${c.tolerance} × real). Only like runs are compared. Never compared: ${
        c.not_compared.join("; ")
      }.`,
    },
  ];
  for (const n of c.notes) out.push({ kind: "text", text: n, note: true });
  if (c.rows.length) {
    out.push({
      kind: "text",
      text: `${c.predicted} of ${c.rows.length} timings predicted within ${
        c.tolerance * 100
      } %; ${c.missed} not.`,
    });
    out.push({
      kind: "table",
      table: {
        head: ["stage", "phase", "real model", "sim", "real", "sim ÷ real", "predicted"],
        rows: c.rows.map((x) => [
          x.stage,
          x.phase,
          x.real_model,
          ms(x.sim_ms),
          ms(x.real_ms),
          `${num(x.ratio, 2)}×`,
          x.predicted ? "✓ within 20 %" : "✗ not",
        ]),
        numeric: true,
      },
    });
    const pairs = [
      ...new Set(
        c.rows.map((x) =>
          `${x.stage}: sim "${x.sim_group}" against ${x.real_model} "${x.real_group}"`
        ),
      ),
    ];
    out.push({ kind: "list", items: pairs });
  }
  return out;
}

function priceBlocks(r: Report): Block[] {
  const p = r.prices;
  const regions = Object.keys(p.aws.regions);
  const types = [...new Set(regions.flatMap((g) => Object.keys(p.aws.regions[g]!)))];
  const rows = types.map((t) => [
    t,
    ...regions.map((g) => {
      const v = p.aws.regions[g]![t];
      return v === undefined ? DASH : fmtUsd(v);
    }),
  ]);
  const l = p.local;
  return [
    { kind: "heading", level: 2, text: "Prices" },
    {
      kind: "text",
      text: `AWS: ${p.aws.what}. Source: ${p.aws.source}, read ${p.aws.read}. ${p.aws.note}`,
    },
    { kind: "table", table: { head: ["USD per hour", ...regions], rows, numeric: true } },
    {
      kind: "text",
      text: `local and sim (this machine): ${
        fmtUsd(l.hardware_cost)
      } over ${l.lifetime_years} years + ${l.watts} W at ${fmtUsd(l.energy_per_kwh)}/kWh = ${
        fmtUsd(p.local_usd_per_hour)
      }/h. ${l.source}.`,
    },
    ...(p.overrides.length
      ? [{ kind: "text", text: `Overridden by: ${p.overrides.join(", ")}.` } as Block]
      : []),
    {
      kind: "text",
      note: true,
      text:
        "Cost per million requests = cost per hour ÷ (requests per second × 3,600) × 1,000,000, at the throughput measured, with the p99 it was measured at; a cluster loaded harder or more lightly costs differently per request.",
    },
  ];
}

/** The report as blocks. */
export function reportBlocks(r: Report): Block[] {
  const c = r.counts;
  const blocks: Block[] = [
    { kind: "heading", level: 1, text: "cncfdemo: deployment models side by side" },
    {
      kind: "text",
      note: true,
      text:
        `Generated ${r.generated_at} by deno task report from ${r.results_dir}: ${c.bootstrap} bootstrap, ${c.rollout} rollout, ${c.bench} benchmark and ${c.experiment} experiment records${
          c.skipped ? ` (${c.skipped} files skipped)` : ""
        }. Runs are grouped by model and by the parameters that make them alike; figures are medians over a group's runs.`,
    },
    { kind: "heading", level: 2, text: "Models" },
    { kind: "table", table: overview(r) },
    { kind: "chart", chart: "gantt", title: "Phases to the first good request" },
    { kind: "chart", chart: "spectra", title: "Latency by percentile" },
    ...r.models.flatMap(modelBlocks),
    ...calibrationBlocks(r),
    ...priceBlocks(r),
  ];
  if (r.skipped.length) {
    blocks.push({ kind: "heading", level: 2, text: "Skipped files" });
    blocks.push({ kind: "list", items: r.skipped.map((s) => `${s.file}: ${s.why}`) });
  }
  return blocks;
}
