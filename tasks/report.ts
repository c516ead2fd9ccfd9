/**
 * report — the deployment models side by side, from the records of a results directory: the
 * bootstraps' phases and the time to the first good request, rollouts, benchmarks (throughput,
 * p50/p99/p99.9, errors), experiments where present, the cost per hour of each cluster and the
 * cost per million requests at the measured throughput; the phase timelines as one Gantt chart,
 * the models' latency spectra, and a calibration of the simulated cluster against the real
 * models (control-plane timings within 20 %). Runs are grouped by model and by the parameters
 * that make them alike. Prices are data (lib/report/prices.json, `--prices FILE`); nothing is
 * fetched. The output is written last, atomically.
 *
 * Arguments: --results-dir DIR, --out PATH, --format html|md|json, --prices FILE,
 *            --local-hardware-cost USD, --local-lifetime-years N, --local-watts W,
 *            --energy-price USD
 * Example:   deno task report --format md --prices my-prices.json
 */
import { CncfdemoError, errorMessage, runMain, UsageError } from "../lib/errors.ts";
import { type Command, flag, type FlagDef, parseFlags } from "../lib/flags.ts";
import { log } from "../lib/log.ts";
import { writeFileAtomic } from "../lib/paths.ts";
import { analyze } from "../lib/report/analyze.ts";
import { renderHtml } from "../lib/report/html.ts";
import { renderMarkdown } from "../lib/report/markdown.ts";
import {
  applyOverrides,
  loadPrices,
  type PriceOverrides,
  shippedPrices,
} from "../lib/report/prices.ts";
import { readRecords } from "../lib/report/read.ts";
import { resultsDirFlag } from "../lib/report/schema.ts";

export const command: Command = {
  name: "report",
  summary:
    "Deployment models side by side from the results directory: phases to the first good request, throughput, latency, cost per million requests, calibration of sim.",
  examples: [
    "deno task report",
    "deno task report --format md > report.md",
    "deno task report --format json --out report.json",
    "deno task report --prices my-prices.json --local-hardware-cost 2400 --local-lifetime-years 4",
  ],
};

/** A number flag (decimals allowed), ≥ 0 or > 0. */
function amount(
  description: string,
  placeholder: string,
  positive = false,
): FlagDef<number, false> {
  return {
    kind: "string",
    description,
    placeholder,
    parse: (raw) => {
      if (!/^\d+(\.\d+)?$/.test(raw.trim())) return undefined;
      const n = Number(raw);
      return positive && n === 0 ? undefined : n;
    },
    expected: positive ? "a number > 0, like 3 or 2.5" : "a number ≥ 0, like 1200 or 0.15",
  };
}

/** The shipped local entry, for help. */
const L = shippedPrices().local;

export const flags = {
  "results-dir": resultsDirFlag("the records to report on"),
  out: flag.string(
    "Where to write the report (default: <results-dir>/report.html for html; stdout for md and json)",
    { placeholder: "PATH" },
  ),
  format: flag.choice("Output format", ["html", "md", "json"] as const, { default: "html" }),
  prices: flag.string(
    "A price file (the shape of lib/report/prices.json, any part of it) over the shipped prices",
    { placeholder: "FILE" },
  ),
  "local-hardware-cost": amount(
    `What this machine cost, in USD (local and sim; default ${L.hardware_cost})`,
    "USD",
  ),
  "local-lifetime-years": amount(
    `Over how many years it is written off (default ${L.lifetime_years})`,
    "N",
    true,
  ),
  "local-watts": amount(`Its average power draw, in watts (default ${L.watts})`, "W"),
  "energy-price": amount(`What energy costs, in USD per kWh (default ${L.energy_per_kwh})`, "USD"),
};

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, args);
  if (o.out !== undefined && o.out.trim() === "") throw new UsageError("--out needs a path");
  let prices = await loadPrices(o.prices);
  const local: NonNullable<PriceOverrides["local"]> = {};
  if (o.localHardwareCost !== undefined) local.hardware_cost = o.localHardwareCost;
  if (o.localLifetimeYears !== undefined) local.lifetime_years = o.localLifetimeYears;
  if (o.localWatts !== undefined) local.watts = o.localWatts;
  if (o.energyPrice !== undefined) local.energy_per_kwh = o.energyPrice;
  if (Object.keys(local).length) prices = applyOverrides(prices, { local }, "flags");

  const records = await readRecords(o.resultsDir);
  const report = analyze(records, prices, { resultsDir: o.resultsDir });
  const text = o.format === "html"
    ? await renderHtml(report)
    : o.format === "md"
    ? renderMarkdown(report)
    : JSON.stringify(report, null, 1) + "\n";
  const out = o.out ??
    (o.format === "html" ? `${o.resultsDir.replace(/\/+$/, "")}/report.html` : undefined);
  const c = report.counts;
  const summary = `${report.models.map((m) => m.model).join(", ")} from ${
    c.bootstrap + c.rollout + c.bench + c.experiment
  } records${c.skipped ? ` (${c.skipped} skipped)` : ""}`;
  log.info(`Report: ${summary}`);
  if (!out) return log.out(text);
  try {
    await writeFileAtomic(out, text, 0o644);
  } catch (err) {
    throw new CncfdemoError(`Cannot write the report to ${out}: ${errorMessage(err)}`);
  }
  log.out(out);
}

if (import.meta.main) runMain(main);
