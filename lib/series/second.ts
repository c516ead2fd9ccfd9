/**
 * One generator's second (schema "cncfdemo.second/v1", a line the load generator
 * lib/series/loadgen/main.go prints each second): the responses that completed in that second,
 * their bytes, the errors by class and the latency distribution of those responses.
 * {@link parseSecondLine} validates a line and names what is wrong in one line.
 */
import { CncfdemoError } from "../errors.ts";
import { type Histogram, histogramProblem } from "../bench/histogram.ts";
import { type ErrorCounts, parseGeneratorDocument } from "../bench/wrk_result.ts";

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

/** Parses one line; `origin` names where it came from. */
export function parseSecondLine(text: string, origin: string): GeneratorSecond {
  const bad = (why: string) =>
    new CncfdemoError(`A per-second sample from ${origin} is not usable: ${why}`);
  const { doc, errors } = parseGeneratorDocument(
    text,
    SECOND_SCHEMA,
    ["second", "start_unix_ms", "responses", "bytes", "backlog"],
    bad,
  );
  const problem = histogramProblem(doc.histogram);
  if (problem) throw bad(`histogram: ${problem}`);
  return {
    generator: String(doc.generator ?? ""),
    second: doc.second as number,
    startUnixMs: doc.start_unix_ms as number,
    responses: doc.responses as number,
    bytes: doc.bytes as number,
    errors,
    histogram: doc.histogram as Histogram,
    backlog: doc.backlog as number,
  };
}
