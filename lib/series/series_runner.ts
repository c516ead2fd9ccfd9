/**
 * Per-second series from the load itself: `parallelism` load generators (the cncfdemo-loadgen
 * binary, lib/series/loadgen/main.go) on this machine, sharing one second grid, each printing a
 * sample per second. As soon as every generator has reported a second, the merged sample of that
 * second (exact: {@link mergeSecond}) goes to `onSecond` — live charts and experiments read the
 * run through this callback — and the whole series is returned at the end.
 *
 * Closed model (`rate` undefined): each connection sends its next request when the previous one
 * ended, like wrk. Open model (`rate` R requests/s in total, split evenly over the generators):
 * requests are due at a constant rate whatever the server does, and latency is measured from when
 * a request was due, so a stall shows as latency (no coordinated omission).
 *
 * @example
 * const run = await runSeries({ url: "http://127.0.0.1:8080/", durationS: 10, connections: 32,
 *   parallelism: 2, rate: 2_000 }, { onSecond: (s) => console.log(s.second, s.ok, s.latency_ms.p99) });
 */
import { resolveBinaries } from "../binaries.ts";
import { CncfdemoError } from "../errors.ts";
import { lastLines, run } from "../run_program.ts";
import { generatorNames } from "../bench/local_runner.ts";
import { mergeSecond, type SecondSample } from "./merge_seconds.ts";
import { type GeneratorSecond, parseSecondLine } from "./second.ts";

export interface SeriesOptions {
  url: string;
  durationS: number;
  /** Connections per generator. */
  connections: number;
  /** Event-loop threads per generator (default 1), each with its share of the connections. */
  threads?: number;
  parallelism: number;
  /** Open model: requests per second in total; undefined: closed model. */
  rate?: number | undefined;
  /** Open model: a load step, `rate` requests/s in total from `atS` seconds on. */
  step?: { atS: number; rate: number } | undefined;
  /** When second 0 begins (ms since the epoch); default: 300 ms from now and more per generator. */
  startUnixMs?: number;
  requestTimeoutS: number;
  /** The load generator program (default: cncfdemo-loadgen from the binary cache, built if missing). */
  loadgen?: string;
  /** Stops the generators early (the series ends with the seconds reported so far). */
  signal?: AbortSignal;
  /** Called with the generators' stderr lines (for --verbose). */
  onLine?: (line: string) => void;
}

export interface SeriesHooks {
  /** Every second, in order, once all generators reported it: the merged sample and its parts. */
  onSecond?: (sample: SecondSample, parts: readonly GeneratorSecond[]) => void;
}

export interface SeriesRun {
  /** When second 0 began (ms since the epoch). */
  startUnixMs: number;
  /** Merged samples, one per second. */
  seconds: SecondSample[];
  /** Each generator's own samples, by generator name. */
  generators: Record<string, GeneratorSecond[]>;
  model: "closed" | "open";
  loadgenVersion: string;
}

/** The generator's command line. */
export function loadgenArgs(o: SeriesOptions, name: string, startUnixMs: number): string[] {
  return [
    "-url",
    o.url,
    "-connections",
    String(o.connections),
    "-duration",
    `${o.durationS}s`,
    "-timeout",
    `${o.requestTimeoutS}s`,
    "-generator",
    name,
    "-start-unix-ms",
    String(startUnixMs),
    ...(o.threads ? ["-threads", String(o.threads)] : []),
    ...(o.rate ? ["-rate", String(o.rate / o.parallelism)] : []),
    ...(o.rate && o.step
      ? ["-step-at", `${o.step.atS}s`, "-step-rate", String(o.step.rate / o.parallelism)]
      : []),
  ];
}

/** A common second 0 a little ahead, so that every generator process is up by then. */
export function seriesStart(parallelism: number, now = Date.now()): number {
  return now + 300 + 20 * parallelism;
}

/** Finds (or builds) the load generator. */
export async function loadgenPath(progress?: (m: string) => void): Promise<string> {
  const r = await resolveBinaries(["cncfdemo-loadgen"], progress ? { progress } : {});
  return r.paths["cncfdemo-loadgen"];
}

/** Runs the generators and returns the series; `hooks.onSecond` sees each second as it ends. */
export async function runSeries(o: SeriesOptions, hooks: SeriesHooks = {}): Promise<SeriesRun> {
  const program = o.loadgen ?? await loadgenPath();
  const version = (await run(program, ["-version"])).stdout.trim();
  const names = generatorNames(o.parallelism);
  const startUnixMs = o.startUnixMs ?? seriesStart(o.parallelism);
  const generators: Record<string, GeneratorSecond[]> = Object.fromEntries(
    names.map((n) => [n, []]),
  );
  const seconds: SecondSample[] = [];
  const pending = new Map<number, GeneratorSecond[]>();
  const stop = new AbortController();
  o.signal?.addEventListener("abort", () => stop.abort(), { once: true });

  const deliver = () => {
    // Seconds in order, each once all generators have it.
    while (true) {
      const next = seconds.length;
      const parts = pending.get(next);
      if (!parts || parts.length < names.length) return;
      pending.delete(next);
      const sample = mergeSecond(parts);
      seconds.push(sample);
      hooks.onSecond?.(sample, parts);
    }
  };

  await Promise.all(names.map(async (name) => {
    const r = await run(program, loadgenArgs(o, name, startUnixMs), {
      allowFailure: true,
      signal: stop.signal,
      onLine: (line, stream) => {
        if (stream === "stderr") {
          o.onLine?.(`${name}: ${line}`);
          return;
        }
        if (!line.includes('"cncfdemo.second/v1"')) return;
        const s = parseSecondLine(line, `generator ${name}`);
        generators[name]!.push(s);
        pending.set(s.second, [...(pending.get(s.second) ?? []), s]);
        deliver();
      },
    }).catch((err) => {
      stop.abort();
      throw err;
    });
    if (r.code !== 0 && !stop.signal.aborted) {
      stop.abort();
      throw new CncfdemoError(
        `Load generator ${name} failed: ${
          lastLines(r.stderr) || lastLines(r.stdout) || `exit code ${r.code}`
        }`,
      );
    }
  }));
  return {
    startUnixMs,
    seconds,
    generators,
    model: o.rate ? "open" : "closed",
    loadgenVersion: version,
  };
}
