/**
 * Reading generators' results back from a Pushgateway's `/metrics` page (Prometheus text format):
 * wrk's summary, its latency statistics and the bounded latency histogram images/wrk/bench.lua
 * pushes (lib/bench/latency_buckets.ts). The exact distribution is not on the Pushgateway: it is in
 * each generator's JSON result; {@link pushedDifference} checks that the two agree.
 */
import { CncfdemoError } from "../errors.ts";
import { type Bucket, bucketize } from "./latency_buckets.ts";
import { ERROR_CLASSES, type ErrorCounts, type GeneratorResult } from "./wrk_result.ts";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/gy;

function unescapeLabel(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
}

/** Parses Prometheus text exposition into samples (comments and blank lines skipped). */
export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) throw new CncfdemoError(`Cannot parse the metrics line "${line.slice(0, 80)}"`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      LABEL.lastIndex = 0;
      let lm: RegExpExecArray | null;
      while (LABEL.lastIndex < m[2].length && (lm = LABEL.exec(m[2]))) {
        labels[lm[1]!] = unescapeLabel(lm[2]!);
      }
    }
    const v = m[3]!;
    const value = v === "+Inf" ? Infinity : v === "-Inf" ? -Infinity : Number(v);
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** Microseconds from seconds as exposed (`0.000309`, `3.09e-04`): exact for whole microseconds. */
function micros(seconds: number): number {
  return Math.round(seconds * 1e6);
}

/** A generator's result as pushed: everything of {@link GeneratorResult} but the exact histogram. */
export interface PushedResult extends Omit<GeneratorResult, "histogram" | "target"> {
  /** Cumulative latency buckets, by upper bound in microseconds, +Inf (Infinity) last. */
  buckets: Bucket[];
}

/**
 * The results of one run's generators found in a Pushgateway's metrics, by generator name.
 * Only groups with `run_id` = `runId` count.
 */
export function generatorsFromMetrics(
  text: string,
  runId: string,
): Map<string, PushedResult> {
  const byGen = new Map<string, Sample[]>();
  for (const s of parsePrometheusText(text)) {
    if (s.labels.run_id !== runId || !s.name.startsWith("wrk_") && s.name !== "push_time_seconds") {
      continue;
    }
    const g = s.labels.generator ?? "";
    if (!byGen.has(g)) byGen.set(g, []);
    byGen.get(g)!.push(s);
  }
  const out = new Map<string, PushedResult>();
  for (const [generator, samples] of byGen) {
    const one = (name: string, label?: [string, string]) =>
      samples.find((s) => s.name === name && (!label || s.labels[label[0]] === label[1]))?.value;
    const requests = one("wrk_requests_total");
    if (requests === undefined) continue; // only push_time: not a wrk result
    const missing = (what: string) =>
      new CncfdemoError(
        `The Pushgateway's metrics of run ${runId}, generator ${generator}, lack ${what}`,
      );
    const duration = one("wrk_duration_seconds");
    const bytes = one("wrk_read_bytes_total");
    if (duration === undefined) throw missing("wrk_duration_seconds");
    if (bytes === undefined) throw missing("wrk_read_bytes_total");
    const errors = {} as ErrorCounts;
    for (const c of ERROR_CLASSES) {
      const v = one("wrk_errors_total", ["class", c]);
      if (v === undefined) throw missing(`wrk_errors_total{class="${c}"}`);
      errors[c] = v;
    }
    const buckets: Bucket[] = samples
      .filter((s) => s.name === "wrk_latency_seconds_bucket")
      .map((s) =>
        [s.labels.le === "+Inf" ? Infinity : micros(Number(s.labels.le)), s.value] as const
      )
      .sort((a, b) => a[0] - b[0]);
    if (buckets.at(-1)?.[0] !== Infinity) throw missing('wrk_latency_seconds_bucket{le="+Inf"}');
    const stat = (s: string) => one("wrk_latency_stat_seconds", ["stat", s]);
    const statusSamples = samples.filter((s) => s.name === "wrk_responses_total");
    const pushed = one("push_time_seconds");
    out.set(generator, {
      generator,
      runId,
      endedAtUnix: pushed === undefined ? undefined : Math.floor(pushed),
      durationUs: micros(duration),
      requests,
      bytes,
      errors,
      latencyUs: {
        min: stat("min") === undefined ? null : micros(stat("min")!),
        mean: stat("mean") === undefined ? null : stat("mean")! * 1e6,
        stdev: stat("stdev") === undefined ? null : stat("stdev")! * 1e6,
        max: stat("max") === undefined ? null : micros(stat("max")!),
        count: buckets.at(-1)![1],
      },
      buckets,
      statusCounts: statusSamples.length
        ? Object.fromEntries(statusSamples.map((s) => [s.labels.status ?? "?", s.value]))
        : undefined,
    });
  }
  return out;
}

/**
 * How a pushed result differs from the generator's own (JSON) result, in a few words; undefined
 * when they agree: the same counters, and the exact distribution falls into the pushed buckets.
 */
export function pushedDifference(p: PushedResult, g: GeneratorResult): string | undefined {
  const fields = [
    ["requests", p.requests, g.requests],
    ["bytes", p.bytes, g.bytes],
    ["duration_us", p.durationUs, g.durationUs],
    ...ERROR_CLASSES.map((c) => [`errors.${c}`, p.errors[c], g.errors[c]] as const),
  ] as const;
  for (const [name, a, b] of fields) {
    if (a !== b) return `${name} ${a} on the Pushgateway, ${b} in the result`;
  }
  const bounds = p.buckets.filter(([le]) => le !== Infinity).map(([le]) => le);
  const expected = bucketize(g.histogram, bounds);
  for (const [i, [le, cumulative]] of p.buckets.entries()) {
    if (expected[i]?.[0] !== le || expected[i]?.[1] !== cumulative) {
      const bound = le === Infinity ? "+Inf" : `${le}µs`;
      return `latency bucket le=${bound} holds ${cumulative} on the Pushgateway, ${
        expected[i]?.[1] ?? "nothing"
      } in the result`;
    }
  }
  return undefined;
}
