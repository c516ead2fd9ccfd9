// deno-lint-ignore-file no-console
/**
 * Benchmark: the per-second recorder (lib/series: cncfdemo-loadgen, closed model, every second's
 * samples parsed and merged in Deno through `onSecond`) against raw `wrk` (no script), same
 * target, duration, connections and threads, alternating runs (order swapped every round).
 * Throughput is what each reports: the recorder's responses / duration, wrk's "Requests/sec".
 * Prints every pair and the ratio recorder / raw (median of the pairs, and of the totals).
 * Not a test: no assertion on time. The target ratio is ≥ 0.98.
 *
 * Arguments: --rounds N (default 5), --time 10s, --connections 64, --threads 2, --url URL
 *            (default: an nginx started here with --nginx-workers N, default 1)
 * Example:   deno task bench:series --rounds 5 --time 10s
 */
import { parseDuration } from "../../lib/duration.ts";
import { loadgenPath, runSeries } from "../../lib/series/series_runner.ts";
import { alternate, comparisonTarget, rawWrkRps } from "./alternating.ts";

const { values, url, stop } = await comparisonTarget();
const rounds = Number(values.rounds);
const durationS = (parseDuration(values.time!) ?? 10_000) / 1_000;
const loadgen = await loadgenPath();

async function ours(): Promise<number> {
  let seconds = 0;
  const r = await runSeries({
    url,
    durationS,
    connections: Number(values.connections),
    threads: Number(values.threads),
    parallelism: 1,
    requestTimeoutS: 2,
    loadgen,
  }, { onSecond: () => seconds++ });
  if (seconds !== durationS) throw new Error(`${seconds} samples for ${durationS}s`);
  return r.seconds.reduce((n, s) => n + s.responses, 0) / durationS;
}

const raw = () =>
  rawWrkRps(url, {
    threads: values.threads!,
    connections: values.connections!,
    duration: `${durationS}s`,
  });

try {
  console.log(
    `target ${url}; ${rounds} rounds of ${durationS}s with ${values.connections} connections, ${values.threads} threads; alternating`,
  );
  await alternate(rounds, "recorder", ours, raw);
} finally {
  await stop();
}
