/**
 * The result of one benchmark run, as written to `<results-dir>/<run-id>.json` (schema
 * "cncfdemo.bench/v1"), and reading the earlier runs of a results directory back for comparison.
 * Files are written atomically and only when the whole run succeeded.
 */
import type { SecondSample } from "../series/merge_seconds.ts";
import { errorMessage } from "../errors.ts";
import { log } from "../log.ts";
import { writeFileAtomic } from "../paths.ts";
import type { ClusterFacts } from "./cluster_facts.ts";
import type { MergedSummary } from "./merge.ts";

export const RESULT_SCHEMA = "cncfdemo.bench/v1";

export interface BenchParams {
  duration_s: number;
  /** Connections per generator. */
  connections: number;
  /** wrk threads per generator. */
  threads: number;
  parallelism: number;
  request_timeout_s: number;
  status_counts: boolean;
}

/** The merged figures of a run (counters, rates, errors, latency, histogram, generators) and what the run was. */
export interface BenchResult extends MergedSummary {
  schema: typeof RESULT_SCHEMA;
  id: string;
  started_at: string;
  ended_at: string;
  /** sim, local, aws, kubernetes. */
  model: string;
  /** The URL loaded (secrets in the query are replaced by where they come from). */
  target: string;
  params: BenchParams;
  /** The unit of the merged latency distribution's [value, count] pairs: microseconds. */
  histogram_unit: "us";
  /** The cluster the generators ran in (null in local mode). */
  cluster: ClusterFacts | null;
  /** The machine that ran wrk in local mode. */
  host: { hostname: string; os: string; cpus: number } | null;
  wrk_version: string | null;
  /** Where the results went through, if anywhere. */
  pushgateway: string | null;
  /** With --per-second: every second of the load, merged across the generators. */
  per_second?: PerSecond[];
}

/** One second of a `--per-second` run (lib/series' merged sample without its distribution). */
export type PerSecond = Omit<SecondSample, "histogram">;

/** A new run id: sortable by time, usable in file names, label values and object names. */
export function newRunId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${t}-${crypto.randomUUID().slice(0, 4)}`;
}

export interface ResultInputs {
  id: string;
  startedAt: Date;
  endedAt: Date;
  model: string;
  target: string;
  params: BenchParams;
  merged: MergedSummary;
  cluster: ClusterFacts | null;
  host: BenchResult["host"];
  wrkVersion: string | null;
  pushgateway: string | null;
}

/** Assembles the result document. */
export function buildResult(i: ResultInputs): BenchResult {
  const m = i.merged;
  return {
    schema: RESULT_SCHEMA,
    id: i.id,
    started_at: i.startedAt.toISOString(),
    ended_at: i.endedAt.toISOString(),
    model: i.model,
    target: i.target,
    params: i.params,
    requests: m.requests,
    duration_s: m.duration_s,
    rps: m.rps,
    bytes: m.bytes,
    bytes_per_s: m.bytes_per_s,
    errors: m.errors,
    latency_ms: m.latency_ms,
    ...(m.status_counts ? { status_counts: m.status_counts } : {}),
    histogram_unit: "us",
    histogram: m.histogram,
    generators: m.generators,
    cluster: i.cluster,
    host: i.host,
    wrk_version: i.wrkVersion,
    pushgateway: i.pushgateway,
  };
}

/** The result as indented JSON, each histogram kept on one line (they hold thousands of pairs). */
export function resultJson(r: BenchResult): string {
  const marked = {
    ...r,
    histogram: "@@histogram@@",
    generators: r.generators.map((g, i) => ({ ...g, histogram: `@@histogram-${i}@@` })),
  };
  return JSON.stringify(marked, null, 1)
    .replace('"@@histogram@@"', () => JSON.stringify(r.histogram))
    .replace(
      /"@@histogram-(\d+)@@"/g,
      (_, i) => JSON.stringify(r.generators[Number(i)]!.histogram),
    ) +
    "\n";
}

/** Writes `<dir>/<id>.json` atomically; returns the path. */
export async function writeResult(dir: string, r: BenchResult): Promise<string> {
  const path = `${dir.replace(/\/+$/, "")}/${r.id}.json`;
  await writeFileAtomic(path, resultJson(r), 0o644);
  return path;
}

/** The earlier results in a directory (schema-checked), oldest first; unreadable files skipped. */
export async function readResults(dir: string): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  for (const e of entries) {
    if (!e.isFile || !e.name.endsWith(".json")) continue;
    try {
      const r = JSON.parse(await Deno.readTextFile(`${dir}/${e.name}`)) as BenchResult;
      if (r.schema !== RESULT_SCHEMA || typeof r.rps !== "number" || !r.latency_ms) continue;
      out.push(r);
    } catch (err) {
      log.debug(`skipping ${dir}/${e.name}: ${errorMessage(err)}`);
    }
  }
  return out.sort((a, b) => a.started_at.localeCompare(b.started_at));
}
