// deno-lint-ignore-file no-console
/**
 * Benchmark: `--help` of every task against a trivial Deno script (`deno run` of a file that
 * prints one line) — what starting Deno costs by itself. Runs alternate (trivial, task, trivial,
 * task…) so that load on the machine hits both alike; one untimed round first warms the caches.
 * Prints, per task, the median (and fastest) wall time, the trivial script's, the ratio of the
 * medians and the time `--help` adds, and says which tasks miss the 0.15 s target (median). On a
 * loaded machine the fastest runs show what the code costs; the medians what load adds.
 *
 * Arguments: --runs N (default 7)
 * Example:   deno task bench:help
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { runs: { type: "string", default: "7" } } });
const runs = Number(values.runs);
const ROOT = new URL("../../", import.meta.url).pathname;
const TARGET_S = 0.15;

const trivial = await Deno.makeTempFile({ suffix: ".ts" });
await Deno.writeTextFile(trivial, 'console.log("hello");\n');

async function timed(args: string[]): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { CI: "1", NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).output();
  const s = (performance.now() - t0) / 1000;
  if (!out.success) throw new Error(`${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return s;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const tasks = [...Deno.readDirSync(`${ROOT}tasks`)].filter((e) => e.name.endsWith(".ts"))
  .map((e) => e.name).sort();
const base = ["run", "-A", trivial];
const rows: string[] = [];
const slow: string[] = [];
const trivialAll: number[] = [];
for (const t of tasks) {
  const help = ["run", "-A", `tasks/${t}`, "--help"];
  await timed(base);
  await timed(help);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(await timed(base));
    b.push(await timed(help));
  }
  trivialAll.push(...a);
  const [ma, mb] = [median(a), median(b)];
  if (mb > TARGET_S) slow.push(t);
  rows.push(
    `${t.padEnd(20)} ${mb.toFixed(3)} s (min ${Math.min(...b).toFixed(3)})  trivial ${
      ma.toFixed(3)
    } s (min ${Math.min(...a).toFixed(3)})  ratio ${(mb / ma).toFixed(1)}×  +${
      ((mb - ma) * 1000).toFixed(0)
    } ms`,
  );
}
await Deno.remove(trivial);
console.log(
  `--help of every task against a trivial Deno script, medians of ${runs} alternating runs:`,
);
for (const r of rows) console.log(`  ${r}`);
console.log(`  trivial script overall median ${median(trivialAll).toFixed(3)} s`);
console.log(
  slow.length
    ? `Over the ${TARGET_S} s target: ${slow.join(", ")}`
    : `Every task answers --help within ${TARGET_S} s (median).`,
);
