// deno-lint-ignore-file no-console
/**
 * Benchmark of the benchmark: `deno task bench --local` against raw `wrk` (no script) with the
 * same duration, connections and threads on the same target (nginx on 127.0.0.1, started here),
 * alternating runs. Throughput is what each reports: bench's result file `rps`, wrk's
 * "Requests/sec". Prints every pair, and the ratio bench / raw (median of the pairs, and of the
 * totals). Not a test: no assertion on time. The target ratio is within 1%.
 *
 * Arguments: --rounds N (default 5), --time 10s, --connections 64, --threads 2, --url URL
 *            (default: an nginx started here with --nginx-workers N, default 1: on a small
 *            machine, keep nginx + wrk within the CPUs, or the noise drowns the ratio)
 * Example:   deno task bench:wrk --rounds 5 --time 10s
 */
import { alternate, comparisonTarget, rawWrkRps } from "./alternating.ts";
import { sandbox } from "../support/env.ts";

const { values, url, stop } = await comparisonTarget();
const rounds = Number(values.rounds);
const sb = await sandbox();

async function ours(): Promise<number> {
  const r = await sb.task("bench.ts", [
    "--local",
    "--url",
    url,
    "--time",
    values.time!,
    "--connections",
    values.connections!,
    "--threads",
    values.threads!,
    "--results-dir",
    `${sb.dir}/results`,
  ]);
  if (r.code !== 0) throw new Error(`bench failed: ${r.stderr}`);
  return JSON.parse(await Deno.readTextFile(r.stdout.trim())).rps;
}

const raw = () =>
  rawWrkRps(url, {
    threads: values.threads!,
    connections: values.connections!,
    duration: values.time!,
  });

try {
  console.log(
    `target ${url}; ${rounds} rounds of ${values.time} with ${values.connections} connections, ${values.threads} threads; alternating (order swapped every round)`,
  );
  await alternate(rounds, "bench", ours, raw);
} finally {
  await sb.cleanup();
  await stop();
}
