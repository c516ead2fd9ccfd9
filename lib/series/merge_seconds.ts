/**
 * Merging the generators' samples of one second exactly: counts are summed, and the latency
 * figures come from the sum of the distributions (as for a whole run, lib/bench/merge.ts), so the
 * merged second equals the second of the union of the generators' data.
 */
import { type Histogram, mergeHistograms } from "../bench/histogram.ts";
import { type LatencyMs, latencyMs } from "../bench/merge.ts";
import { ERROR_CLASSES, type ErrorCounts } from "../bench/wrk_result.ts";
import type { GeneratorSecond } from "./second.ts";

export type SecondErrors = ErrorCounts & { total: number };

/** One second of the whole load (all generators), or of one generator. */
export interface SecondSample {
  /** Index of the second since the run's start. */
  second: number;
  /** When this second began (ms since the epoch). */
  t_unix_ms: number;
  /** Responses completed in this second (any status). */
  responses: number;
  /** Responses below status 400: the throughput that counts. */
  ok: number;
  bytes: number;
  errors: SecondErrors;
  /** Latency of this second's responses, ms (percentiles by nearest rank). */
  latency_ms: LatencyMs;
  /** Open model: requests due but not yet sent at the end of the second. */
  backlog: number;
  histogram: Histogram;
}

/** The sample of one second from the generators' parts (one or more, same second). */
export function mergeSecond(parts: readonly GeneratorSecond[]): SecondSample {
  if (parts.length === 0) throw new Error("mergeSecond needs at least one part");
  const second = parts[0]!.second;
  if (parts.some((p) => p.second !== second || p.startUnixMs !== parts[0]!.startUnixMs)) {
    throw new Error("mergeSecond: parts of different seconds or runs");
  }
  const errors = { total: 0 } as SecondErrors;
  for (const c of ERROR_CLASSES) {
    errors[c] = parts.reduce((n, p) => n + p.errors[c], 0);
    // status errors are responses; the other classes are failed attempts
    errors.total += errors[c];
  }
  const responses = parts.reduce((n, p) => n + p.responses, 0);
  const histogram = mergeHistograms(parts.map((p) => p.histogram));
  return {
    second,
    t_unix_ms: parts[0]!.startUnixMs + second * 1_000,
    responses,
    ok: responses - errors.status,
    bytes: parts.reduce((n, p) => n + p.bytes, 0),
    errors,
    latency_ms: latencyMs(histogram),
    backlog: parts.reduce((n, p) => n + p.backlog, 0),
    histogram,
  };
}
