/**
 * bench — load the demo with wrk and report throughput and exactly merged latency.
 *
 * In the cluster (default): an Indexed Job of `--parallelism` wrk pods (image `--image`, label
 * app.kubernetes.io/component=wrk) loads Countly's write API (`/i`, app key from Secret countly,
 * both in the namespace the demo was rolled out to, found by label) or `--url`; each pod pushes its result to the Pushgateway; the bench reads them
 * back, deletes the Job and its Pushgateway groups. A simulated cluster (kwok nodes run no
 * containers) is refused in one line. With `--local`, `--parallelism` wrk processes run here
 * against `--url`, through the same Lua script and, with `--pushgateway`, the same Pushgateway
 * round trip.
 * Generators are merged exactly (latency percentiles from the merged full distribution). The result
 * goes to `<results-dir>/<run-id>.json` (path printed on stdout), written last and only on success;
 * `--save-html [PATH]` also writes a self-contained HTML report (default PATH:
 * `<results-dir>/<run-id>.html`) comparing the run with the earlier ones in the results directory.
 *
 * With `--local --per-second`, cncfdemo-loadgen (lib/series) loads instead of wrk — the same
 * closed-model load — and every second's throughput, errors and latency go to the result
 * (`per_second`) and, with `--ui`, to live charts in the browser.
 *
 * Arguments: --local, --url URL, --time 30s, --connections 64, --threads 2, --parallelism 1,
 *            --generator-cpu 250m, --request-timeout 2s, --status-counts, --per-second,
 *            --pushgateway URL, --results-dir results, --save-html [PATH], --context NAME,
 *            --kubeconfig FILE, --image IMAGE, --start-timeout 5m, --ui, --ui-linger DURATION
 * Example:   deno task bench --local --url http://127.0.0.1:8080/ --time 10s --save-html
 */
import { runMain, UsageError } from "../lib/errors.ts";
import { type Command, flag, parseFlags } from "../lib/flags.ts";
import { kubeFlags } from "../lib/kube/flags.ts";
import { log } from "../lib/log.ts";
import { runSteps } from "../lib/steps.ts";
import type { BenchOutcome } from "../lib/bench/bench_steps.ts";
import { DEFAULT_GENERATOR_CPU, DEFAULT_WRK_IMAGE } from "../lib/bench/generator_defaults.ts";
import { formatCpu } from "../lib/quantity.ts";
import { newRunId } from "../lib/bench/result.ts";
import { uiFlags, withUi } from "../lib/ui/live_ui.ts";
import { summaryLines } from "../lib/ui/emit.ts";

export const command: Command = {
  name: "bench",
  summary:
    "Benchmark the demo with wrk (in the cluster, or --local against --url): throughput, exact merged latency, JSON and HTML reports.",
  examples: [
    "deno task bench --context aws-demo --parallelism 4 --time 1m --save-html",
    "deno task bench --local --url http://127.0.0.1:8080/ --time 10s --connections 32",
    "deno task bench --local --url http://127.0.0.1:8080/ --pushgateway http://127.0.0.1:9091 --save-html report.html",
  ],
};

function validateUrl(v: string): string | undefined {
  try {
    const u = new URL(v);
    return u.protocol === "http:" || u.protocol === "https:" ? undefined : "bad";
  } catch {
    return "bad";
  }
}

export const flags = {
  local: flag.boolean("Run wrk on this machine against --url instead of in the cluster"),
  url: flag.string("URL to load (default in the cluster: Countly's write API /i)", {
    placeholder: "URL",
    validate: validateUrl,
    expected: "an http:// or https:// URL",
  }),
  time: flag.duration("How long each generator loads the target", { default: "30s", minMs: 1_000 }),
  connections: flag.int("Open connections per generator", { min: 1, max: 100_000, default: 64 }),
  threads: flag.int("wrk threads per generator", { min: 1, max: 1_024, default: 2 }),
  "generator-cpu": flag.quantity(
    "CPU each in-cluster generator requests (a scheduling share, not a limit: wrk may use more)",
    { default: formatCpu(DEFAULT_GENERATOR_CPU), example: "250m or 1" },
  ),
  parallelism: flag.int("Number of load generators (pods, or wrk processes with --local)", {
    min: 1,
    max: 1_000,
    default: 1,
  }),
  "request-timeout": flag.duration("wrk's timeout for one request (whole seconds)", {
    default: "2s",
    minMs: 1_000,
  }),
  "status-counts": flag.boolean(
    "Count responses per HTTP status (costs throughput: wrk then parses every response)",
  ),
  "per-second": flag.boolean(
    "With --local: load with cncfdemo-loadgen instead of wrk (the same closed-model load), recording every second's throughput, errors and latency (result per_second; live charts with --ui)",
  ),
  pushgateway: flag.string(
    "Pushgateway URL (default in the cluster: Service monitoring/pushgateway; none with --local)",
    { placeholder: "URL", validate: validateUrl, expected: "an http:// or https:// URL" },
  ),
  "results-dir": flag.string("Directory for <run-id>.json results", {
    default: "results",
    placeholder: "DIR",
  }),
  "save-html": flag.string(
    "Also write a self-contained HTML report; PATH is optional (default <results-dir>/<run-id>.html)",
    { placeholder: "[PATH]" },
  ),
  ...kubeFlags,
  image: flag.string("wrk image for the in-cluster generators", {
    default: DEFAULT_WRK_IMAGE,
    placeholder: "IMAGE",
  }),
  "start-timeout": flag.duration("How long the generator pods may take to start", {
    default: "5m",
  }),
  ...uiFlags,
};

/**
 * `--save-html` takes an optional value, which parseArgs cannot express: a bare `--save-html`
 * (last, or followed by another flag) becomes `--save-html=` (empty: the default path).
 */
export function expandOptionalValues(args: readonly string[]): string[] {
  return args.map((a, i) => {
    const next = args[i + 1];
    return a === "--save-html" && (next === undefined || next.startsWith("-")) ? "--save-html=" : a;
  });
}

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, expandOptionalValues(args));
  if (o.local && (o.context || o.kubeconfig)) {
    throw new UsageError("--local runs wrk on this machine: drop --context/--kubeconfig");
  }
  const runId = newRunId();
  const saveHtml = o.saveHtml === undefined
    ? undefined
    : o.saveHtml === ""
    ? `${o.resultsDir.replace(/\/+$/, "")}/${runId}.html`
    : o.saveHtml;
  const out: BenchOutcome = {};
  // The Kubernetes client and the runners load only now: --help answers without them.
  const { benchSteps } = await import("../lib/bench/bench_steps.ts");
  const steps = benchSteps({
    runId,
    saveHtml,
    local: o.local,
    url: o.url,
    timeMs: o.time,
    connections: o.connections,
    threads: o.threads,
    generatorCpu: o.generatorCpu,
    parallelism: o.parallelism,
    requestTimeoutMs: o.requestTimeout,
    statusCounts: o.statusCounts,
    perSecond: o.perSecond,
    pushgateway: o.pushgateway,
    resultsDir: o.resultsDir,
    kube: { kubeconfig: o.kubeconfig, context: o.context },
    image: o.image,
    startTimeoutMs: o.startTimeout,
  }, out);
  await runSteps(steps);
  const r = out.result!;
  const l = r.latency_ms;
  const f = (v: number | null) => (v === null ? "–" : v.toFixed(3));
  summaryLines(
    `${r.requests.toLocaleString("en-US")} requests in ${r.duration_s.toFixed(1)}s: ${
      r.rps.toFixed(1)
    } requests/s, ${r.errors.total} errors`,
    `latency ms: p50 ${f(l.p50)}  p90 ${f(l.p90)}  p99 ${f(l.p99)}  p99.9 ${f(l.p99_9)}  max ${
      f(l.max)
    }`,
    ...(out.htmlPath ? [`HTML report: ${out.htmlPath}`] : []),
  );
  log.out(out.resultPath!);
}

if (import.meta.main) runMain(withUi(command, main));
