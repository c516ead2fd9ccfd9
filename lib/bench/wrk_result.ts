/**
 * One load generator's result, as images/wrk/bench.lua writes it (schema "cncfdemo.wrk/v1"):
 * wrk's summary, every error class, wrk's latency statistics and the full latency distribution.
 * {@link parseWrkResult} validates a document and names what is wrong in one line.
 */
import { CncfdemoError, errorMessage } from "../errors.ts";
import { type Histogram, histogramProblem } from "./histogram.ts";

export const ERROR_CLASSES = ["connect", "read", "write", "status", "timeout"] as const;
export type ErrorClass = typeof ERROR_CLASSES[number];
export type ErrorCounts = Record<ErrorClass, number>;

export interface GeneratorResult {
  generator: string;
  runId: string;
  /** scheme://host:port/path, query removed (it may carry an app key). */
  target: string;
  /** When wrk finished (seconds since the epoch), when known. */
  endedAtUnix?: number | undefined;
  durationUs: number;
  requests: number;
  bytes: number;
  errors: ErrorCounts;
  /**
   * wrk's own latency statistics, microseconds. `count` is the number of recorded latencies: wrk
   * adds samples to correct for coordinated omission, so it can exceed `requests`.
   */
  latencyUs: {
    min: number | null;
    mean: number | null;
    stdev: number | null;
    max: number | null;
    count: number;
  };
  histogram: Histogram;
  statusCounts?: Record<string, number> | undefined;
  /** "ffi" or "api": how the Lua script read wrk's distribution. */
  histogramSource?: string | undefined;
  /** With WRK_HISTOGRAM_CHECK=1: whether both ways of reading it gave the same distribution. */
  histogramCheck?: string | undefined;
}

/** A whole number ≥ 0. */
export function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function numOrNull(v: unknown): v is number | null {
  return v === null || (typeof v === "number" && Number.isFinite(v));
}

/**
 * The checks every generator document shares: JSON, an object, the expected schema, the `counts`
 * keys whole numbers ≥ 0 and every error class counted. Throws `bad(why)`.
 */
export function parseGeneratorDocument(
  text: string,
  schema: string,
  counts: readonly string[],
  bad: (why: string) => Error,
): { doc: Record<string, unknown>; errors: ErrorCounts } {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw bad(`not JSON (${errorMessage(err)})`);
  }
  if (typeof doc !== "object" || doc === null) throw bad("not a JSON object");
  if (doc.schema !== schema) {
    throw bad(`schema is ${JSON.stringify(doc.schema)}, expected "${schema}"`);
  }
  for (const k of counts) {
    if (!isCount(doc[k])) throw bad(`${k} is ${JSON.stringify(doc[k])}, not a count`);
  }
  const errors = doc.errors as Record<string, unknown> | undefined;
  if (typeof errors !== "object" || errors === null) throw bad("errors is missing");
  for (const k of ERROR_CLASSES) {
    if (!isCount(errors[k])) throw bad(`errors.${k} is ${JSON.stringify(errors[k])}`);
  }
  return {
    doc,
    errors: Object.fromEntries(ERROR_CLASSES.map((k) => [k, errors[k] as number])) as ErrorCounts,
  };
}

/** Parses and validates a generator's JSON document; `origin` names where it came from. */
export function parseWrkResult(text: string, origin: string): GeneratorResult {
  const bad = (why: string) =>
    new CncfdemoError(`The wrk result from ${origin} is not usable: ${why}`);
  const { doc, errors } = parseGeneratorDocument(
    text,
    "cncfdemo.wrk/v1",
    ["duration_us", "requests", "bytes"],
    bad,
  );
  const lat = doc.latency_us as Record<string, unknown> | undefined;
  if (typeof lat !== "object" || lat === null) throw bad("latency_us is missing");
  for (const k of ["min", "mean", "stdev", "max"]) {
    if (!numOrNull(lat[k])) throw bad(`latency_us.${k} is ${JSON.stringify(lat[k])}`);
  }
  if (!isCount(lat.recorded)) throw bad("latency_us.recorded is missing");
  const problem = histogramProblem(doc.histogram);
  if (problem) throw bad(`histogram: ${problem}`);
  let statusCounts: Record<string, number> | undefined;
  if (doc.status_counts !== undefined) {
    const s = doc.status_counts as Record<string, unknown>;
    if (typeof s !== "object" || s === null || !Object.values(s).every(isCount)) {
      throw bad("status_counts is not a map of counts");
    }
    statusCounts = s as Record<string, number>;
  }
  return {
    generator: String(doc.generator ?? ""),
    runId: String(doc.run_id ?? ""),
    target: String(doc.target ?? ""),
    endedAtUnix: isCount(doc.ended_at_unix) ? doc.ended_at_unix : undefined,
    durationUs: doc.duration_us as number,
    requests: doc.requests as number,
    bytes: doc.bytes as number,
    errors,
    latencyUs: {
      min: lat.min as number | null,
      mean: lat.mean as number | null,
      stdev: lat.stdev as number | null,
      max: lat.max as number | null,
      count: lat.recorded as number,
    },
    histogram: doc.histogram as Histogram,
    statusCounts,
    histogramSource: typeof doc.histogram_source === "string" ? doc.histogram_source : undefined,
    histogramCheck: typeof doc.histogram_check === "string" ? doc.histogram_check : undefined,
  };
}
