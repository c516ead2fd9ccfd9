/**
 * One generator's second (schema "cncfdemo.second/v1", a line the load generator
 * lib/series/loadgen/main.go prints each second): the responses that completed in that second,
 * their bytes, the errors by class and the latency distribution of those responses.
 * {@link parseSecondLine} validates a line and names what is wrong in one line.
 */
import { CncfdemoError, errorMessage } from "../errors.ts";
import { type Histogram, histogramProblem } from "../bench/histogram.ts";
import { ERROR_CLASSES, type ErrorCounts } from "../bench/wrk_result.ts";

export const SECOND_SCHEMA = "cncfdemo.second/v1";

export interface GeneratorSecond {
  generator: string;
  /** Index of the second since the run's start (0-based); every generator shares the grid. */
  second: number;
  /** When second 0 began (ms since the epoch). */
  startUnixMs: number;
  /** Responses completed in this second (any status; status ≥ 400 also counts as an error). */
  responses: number;
  bytes: number;
  errors: ErrorCounts;
  /** Latency of this second's responses, µs (≥ 1 ms: three significant digits). */
  histogram: Histogram;
  /** Open model: requests due but not yet sent at the end of the second. */
  backlog: number;
}

const isCount = (v: unknown): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** Parses one line; `origin` names where it came from. */
export function parseSecondLine(text: string, origin: string): GeneratorSecond {
  const bad = (why: string) =>
    new CncfdemoError(`A per-second sample from ${origin} is not usable: ${why}`);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw bad(`not JSON (${errorMessage(err)})`);
  }
  if (typeof doc !== "object" || doc === null) throw bad("not a JSON object");
  if (doc.schema !== SECOND_SCHEMA) {
    throw bad(`schema is ${JSON.stringify(doc.schema)}, expected "${SECOND_SCHEMA}"`);
  }
  for (const k of ["second", "start_unix_ms", "responses", "bytes", "backlog"]) {
    if (!isCount(doc[k])) throw bad(`${k} is ${JSON.stringify(doc[k])}, not a count`);
  }
  const errors = doc.errors as Record<string, unknown> | undefined;
  if (typeof errors !== "object" || errors === null) throw bad("errors is missing");
  for (const k of ERROR_CLASSES) {
    if (!isCount(errors[k])) throw bad(`errors.${k} is ${JSON.stringify(errors[k])}`);
  }
  const problem = histogramProblem(doc.histogram);
  if (problem) throw bad(`histogram: ${problem}`);
  return {
    generator: String(doc.generator ?? ""),
    second: doc.second as number,
    startUnixMs: doc.start_unix_ms as number,
    responses: doc.responses as number,
    bytes: doc.bytes as number,
    errors: Object.fromEntries(ERROR_CLASSES.map((k) => [k, errors[k] as number])) as ErrorCounts,
    histogram: doc.histogram as Histogram,
    backlog: doc.backlog as number,
  };
}
