/**
 * Merging load generators exactly: counters are summed, min and max taken, and every latency
 * figure — mean, standard deviation, percentiles — is computed from the merged distribution.
 * Throughput is the sum of each generator's own rate (they run at the same time).
 */
import {
  type Histogram,
  histogramStats,
  mergeHistograms,
  percentile,
  totalCount,
} from "./histogram.ts";
import { ERROR_CLASSES, type ErrorCounts, type GeneratorResult } from "./wrk_result.ts";

/** The percentiles every summary reports, and their keys. */
export const PERCENTILES = [
  ["p50", 50],
  ["p75", 75],
  ["p90", 90],
  ["p99", 99],
  ["p99_9", 99.9],
] as const;

export interface LatencyMs {
  min: number | null;
  mean: number | null;
  stdev: number | null;
  max: number | null;
  p50: number | null;
  p75: number | null;
  p90: number | null;
  p99: number | null;
  p99_9: number | null;
  /** Recorded latencies (wrk's coordinated-omission correction included). */
  count: number;
}

export type ErrorSummary = ErrorCounts & { total: number };

export interface GeneratorSummary {
  generator: string;
  requests: number;
  duration_s: number;
  rps: number;
  bytes: number;
  errors: ErrorSummary;
  latency_ms: LatencyMs;
  /** wrk's own mean and standard deviation (microseconds), for cross-checking. */
  wrk_latency_us: { mean: number | null; stdev: number | null };
  status_counts?: Record<string, number>;
  /** How the Lua script read wrk's distribution ("ffi" or "api"), and its self-check if asked. */
  histogram_source?: string;
  histogram_check?: string;
  /** value (µs) / count pairs. */
  histogram: Histogram;
}

export interface MergedSummary {
  requests: number;
  /** The longest generator's duration. */
  duration_s: number;
  /** Sum of the generators' rates. */
  rps: number;
  bytes: number;
  bytes_per_s: number;
  errors: ErrorSummary;
  latency_ms: LatencyMs;
  status_counts?: Record<string, number>;
  histogram: Histogram;
  generators: GeneratorSummary[];
}

const ms = (us: number | undefined): number | null => (us === undefined ? null : us / 1_000);

/** Latency figures (milliseconds) of a distribution in microseconds. */
export function latencyMs(h: Histogram): LatencyMs {
  const s = histogramStats(h);
  const out: LatencyMs = {
    min: ms(s.min),
    mean: ms(s.mean),
    stdev: ms(s.stdev),
    max: ms(s.max),
    p50: null,
    p75: null,
    p90: null,
    p99: null,
    p99_9: null,
    count: totalCount(h),
  };
  for (const [key, p] of PERCENTILES) out[key] = ms(percentile(h, p));
  return out;
}

function errorSummary(parts: readonly ErrorCounts[]): ErrorSummary {
  const out = { total: 0 } as ErrorSummary;
  for (const c of ERROR_CLASSES) {
    out[c] = parts.reduce((n, e) => n + e[c], 0);
    out.total += out[c];
  }
  return out;
}

function sumStatus(
  maps: readonly (Record<string, number> | undefined)[],
): Record<string, number> | undefined {
  if (maps.every((m) => m === undefined)) return undefined;
  const out: Record<string, number> = {};
  for (const m of maps) {
    for (const [k, v] of Object.entries(m ?? {})) out[k] = (out[k] ?? 0) + v;
  }
  return out;
}

/** One generator's own summary. */
export function summarizeGenerator(g: GeneratorResult): GeneratorSummary {
  const duration_s = g.durationUs / 1e6;
  return {
    generator: g.generator,
    requests: g.requests,
    duration_s,
    rps: duration_s > 0 ? g.requests / duration_s : 0,
    bytes: g.bytes,
    errors: errorSummary([g.errors]),
    latency_ms: latencyMs(g.histogram),
    wrk_latency_us: { mean: g.latencyUs.mean, stdev: g.latencyUs.stdev },
    ...(g.statusCounts ? { status_counts: g.statusCounts } : {}),
    ...(g.histogramSource ? { histogram_source: g.histogramSource } : {}),
    ...(g.histogramCheck ? { histogram_check: g.histogramCheck } : {}),
    histogram: g.histogram,
  };
}

/** Merges the generators of one run exactly. */
export function mergeGenerators(generators: readonly GeneratorResult[]): MergedSummary {
  const summaries = [...generators]
    .sort((a, b) => a.generator.localeCompare(b.generator, "en", { numeric: true }))
    .map(summarizeGenerator);
  const histogram = mergeHistograms(generators.map((g) => g.histogram));
  const duration_s = Math.max(0, ...summaries.map((s) => s.duration_s));
  const bytes = summaries.reduce((n, s) => n + s.bytes, 0);
  const status = sumStatus(generators.map((g) => g.statusCounts));
  return {
    requests: summaries.reduce((n, s) => n + s.requests, 0),
    duration_s,
    rps: summaries.reduce((n, s) => n + s.rps, 0),
    bytes,
    bytes_per_s: summaries.reduce((n, s) => n + (s.duration_s > 0 ? s.bytes / s.duration_s : 0), 0),
    errors: errorSummary(generators.map((g) => g.errors)),
    latency_ms: latencyMs(histogram),
    ...(status ? { status_counts: status } : {}),
    histogram,
    generators: summaries,
  };
}
