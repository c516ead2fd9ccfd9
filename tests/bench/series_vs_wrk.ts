// deno-lint-ignore-file no-console
/**
 * Benchmark: the per-second recorder (lib/series: cncfdemo-loadgen, closed model, every second's
 * samples parsed and merged in Deno through `onSecond`) against raw `wrk` (no script), same
 * target, duration, connections and threads, alternating runs (order swapped every round).
 * Throughput is what each reports: the recorder's responses / duration, wrk's "Requests/sec".
 * Prints every pair and the ratio recorder / raw (median of the pairs, and of the totals).
 * Not a test: no assertion on time. The target ratio is ≥ 0.98.
 *
 * Arguments: --rounds N (default 5), --time 10s, --connections 64, --threads 1, --url URL
 *            (default: an nginx started here with --nginx-workers N, default 1)
 * Example:   deno task bench:series --rounds 5 --time 10s
 */
import { parseArgs } from "node:util";
import { run } from "../../lib/process.ts";
import { parseDuration } from "../../lib/duration.ts";
import { loadgenPath, runSeries } from "../../lib/series/series_runner.ts";
import { startNginx } from "../support/servers.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    time: { type: "string", default: "10s" },
    connections: { type: "string", default: "64" },
    threads: { type: "string", default: "1" },
    url: { type: "string" },
    "nginx-workers": { type: "string", default: "1" },
  },
});
const rounds = Number(values.rounds);
const durationS = (parseDuration(values.time!) ?? 10_000) / 1_000;
const nginx = values.url ? undefined : await startNginx(Number(values["nginx-workers"]));
const url = values.url ?? nginx!.url;
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

async function raw(): Promise<number> {
  const r = await run("wrk", [
    "--threads",
    values.threads!,
    "--connections",
    values.connections!,
    "--duration",
    `${durationS}s`,
    url,
  ]);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  if (!m) throw new Error(`no Requests/sec in wrk's output: ${r.stdout}`);
  return Number(m[1]);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

try {
  console.log(
    `target ${url}; ${rounds} rounds of ${durationS}s with ${values.connections} connections, ${values.threads} threads; alternating`,
  );
  const pairs: { ours: number; raw: number }[] = [];
  for (let i = 0; i < rounds; i++) {
    let a: number, b: number;
    if (i % 2 === 0) {
      a = await ours();
      b = await raw();
    } else {
      b = await raw();
      a = await ours();
    }
    pairs.push({ ours: a, raw: b });
    console.log(
      `round ${i + 1}: recorder ${a.toFixed(0)} req/s, raw wrk ${b.toFixed(0)} req/s, ratio ${
        (a / b).toFixed(4)
      }`,
    );
  }
  const sumOurs = pairs.reduce((s, p) => s + p.ours, 0);
  const sumRaw = pairs.reduce((s, p) => s + p.raw, 0);
  console.log(
    `ratio recorder/raw: median of pairs ${median(pairs.map((p) => p.ours / p.raw)).toFixed(4)}, ` +
      `of totals ${(sumOurs / sumRaw).toFixed(4)} (median req/s: recorder ${
        median(pairs.map((p) => p.ours)).toFixed(0)
      }, raw ${median(pairs.map((p) => p.raw)).toFixed(0)})`,
  );
} finally {
  await nginx?.stop();
}
