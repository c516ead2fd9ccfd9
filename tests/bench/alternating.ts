// deno-lint-ignore-file no-console
/**
 * What the benchmarks against raw wrk share: raw wrk's throughput on a URL, and rounds that run
 * ours and raw alternately (order swapped every round, so drift hits both alike), printing every
 * pair and the ratio ours / raw (median of the pairs, and of the totals).
 */
import { parseArgs } from "node:util";
import { run } from "../../lib/run_program.ts";
import { startNginx } from "../support/servers.ts";

/** A comparison's flags and target; `stop` ends the nginx it started. */
export interface ComparisonTarget {
  values: {
    rounds: string;
    time: string;
    connections: string;
    threads: string;
    url?: string;
    "nginx-workers": string;
  };
  url: string;
  stop(): Promise<void>;
}

/**
 * The flags every comparison with raw wrk takes (--rounds 5, --time 10s, --connections 64,
 * --threads 2, --url URL, --nginx-workers 1) and its target: --url, else an nginx started here.
 */
export async function comparisonTarget(): Promise<ComparisonTarget> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rounds: { type: "string", default: "5" },
      time: { type: "string", default: "10s" },
      connections: { type: "string", default: "64" },
      threads: { type: "string", default: "2" },
      url: { type: "string" },
      "nginx-workers": { type: "string", default: "1" },
    },
  });
  const nginx = values.url ? undefined : await startNginx(Number(values["nginx-workers"]));
  return {
    values,
    url: values.url ?? nginx!.url,
    stop: async () => void await nginx?.stop(),
  };
}

/** Raw `wrk` (no script): its "Requests/sec". */
export async function rawWrkRps(
  url: string,
  o: { threads: string; connections: string; duration: string },
): Promise<number> {
  const r = await run("wrk", [
    "--threads",
    o.threads,
    "--connections",
    o.connections,
    "--duration",
    o.duration,
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

/** Runs `rounds` pairs alternately and prints them and the ratios; `name` labels ours. */
export async function alternate(
  rounds: number,
  name: string,
  ours: () => Promise<number>,
  raw: () => Promise<number>,
): Promise<void> {
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
      `round ${i + 1}: ${name} ${a.toFixed(0)} req/s, raw wrk ${b.toFixed(0)} req/s, ratio ${
        (a / b).toFixed(4)
      }`,
    );
  }
  const sumOurs = pairs.reduce((s, p) => s + p.ours, 0);
  const sumRaw = pairs.reduce((s, p) => s + p.raw, 0);
  console.log(
    `ratio ${name}/raw: median of pairs ${median(pairs.map((p) => p.ours / p.raw)).toFixed(4)}, ` +
      `of totals ${(sumOurs / sumRaw).toFixed(4)} (median req/s: ${name} ${
        median(pairs.map((p) => p.ours)).toFixed(0)
      }, raw ${median(pairs.map((p) => p.raw)).toFixed(0)})`,
  );
}
