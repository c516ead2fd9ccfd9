/**
 * experiment — measure what the load itself shows: chaos recovery, autoscaling lag, background
 * interference. Constant-rate (open-model) load from this machine (`--parallelism` cncfdemo-loadgen
 * processes, per-second series merged exactly) against `--url` (default: the Service named like
 * `--target`, its ClusterIP and first port), while the target's pods, its Service's endpoints and
 * its autoscaler are watched:
 *   chaos       at --at, delete --kill N target pods (--signal KILL: SIGKILL their containers in
 *               place, through the node's containerd: a local node only); figures:
 *               time to first error, errors, recovery to ≥ 95 % of the baseline throughput with p99
 *               < 1.5 × the baseline's, the dip (requests short of the baseline);
 *   autoscale   --from R/s, then --to R/s from --step-at; figures: step → HPA decision → first new
 *               pod Ready → all Ready → p99 under --slo-p99;
 *   background  --time with the background deployment (default the stack's BOINC) scaled to 0,
 *               then --time with it running (--no-limits: its CPU limits removed meanwhile, then
 *               restored); figures: foreground p50/p99/throughput per phase and their deltas, the
 *               CPU-seconds the background harvested (kubelet summary API).
 * A cluster that runs no containers (kwok's simulated nodes) is refused in one line. Results go to
 * `<results-dir>/<id>.json` (schema cncfdemo.experiment/v1, written last and only on success; path
 * on stdout); `--save-html [PATH]` writes a self-contained report.
 *
 * Arguments: chaos|autoscale|background, --target deployment/NAME (countly-api), --namespace
 *            cncfdemo, --url URL, --rate 200, --time 60s (autoscale 120s), --kill 1, --at 20s, --signal KILL,
 *            --from 50, --to 400, --step-at 20s, --slo-p99 100ms, --background deployment/NAME
 *            (boinc), --no-limits, --connections 32, --parallelism 1, --request-timeout 2s,
 *            --results-dir results, --save-html [PATH], --context NAME, --kubeconfig FILE,
 *            --ui, --ui-linger DURATION
 * Example:   deno task experiment chaos --target deployment/bench-target --kill 1 --at 10s --time 30s --save-html
 */
import { runMain, UsageError } from "../lib/errors.ts";
import { type Command, flag, parseFlags } from "../lib/flags.ts";
import { kubeFlags } from "../lib/kube/flags.ts";
import { log } from "../lib/log.ts";
import { runSteps } from "../lib/steps.ts";
import { newRunId } from "../lib/bench/result.ts";
import { DEMO_NAMESPACE } from "../lib/bench/cluster_runner.ts";
import {
  EXPERIMENT_KINDS,
  type ExperimentKind,
  parseDeploymentRef,
} from "../lib/experiments/experiment_kinds.ts";
import type { ExperimentOutcome } from "../lib/experiments/experiment_steps.ts";
import { expandOptionalValues } from "./bench.ts";
import { uiFlags, withUi } from "../lib/ui/live_ui.ts";
import { summaryLines } from "../lib/ui/emit.ts";
import { showMark, showSecond } from "../lib/ui/second_series.ts";

export const command: Command = {
  name: "experiment",
  summary:
    "Chaos recovery, autoscaling lag or background interference, measured from constant-rate load: per-second series, events, figures, JSON and HTML.",
  usage: "chaos|autoscale|background [flags]",
  positionals: { min: 1, max: 1 },
  examples: [
    "deno task experiment chaos --kill 1 --at 20s --time 60s --save-html",
    "deno task experiment autoscale --target deployment/web --namespace default --from 50 --to 400 --step-at 20s --time 120s --slo-p99 50ms",
    "deno task experiment background --time 60s --no-limits",
  ],
};

function validateUrl(v: string): string | undefined {
  try {
    return new URL(v).protocol === "http:" ? undefined : "bad";
  } catch {
    return "bad";
  }
}

export const flags = {
  target: flag.string("The deployment under test", {
    default: "deployment/countly-api",
    placeholder: "deployment/NAME",
  }),
  namespace: flag.string("Namespace of --target and --background", {
    default: DEMO_NAMESPACE,
    placeholder: "NS",
  }),
  url: flag.string(
    "URL to load (default: the Service named like --target: ClusterIP, first port)",
    {
      placeholder: "URL",
      validate: validateUrl,
      expected: "an http:// URL",
    },
  ),
  rate: flag.int("Requests per second in total (chaos, background)", {
    min: 1,
    max: 1_000_000,
    default: 200,
  }),
  time: flag.duration(
    "How long the load runs (background: each phase); default 60s, autoscale 120s",
    { minMs: 2_000 },
  ),
  kill: flag.int("chaos: how many target pods to kill", { min: 1, max: 1_000, default: 1 }),
  at: flag.duration("chaos: when to kill, from the start of the load", { default: "20s" }),
  signal: flag.string(
    "chaos: KILL sends SIGKILL to the pods' containers instead of deleting the pods (a local node only)",
    {
      placeholder: "KILL",
      validate: (v) => (v === "KILL" ? undefined : "bad"),
      expected: "KILL",
    },
  ),
  from: flag.int("autoscale: requests per second before the step", {
    min: 1,
    max: 1_000_000,
    default: 50,
  }),
  to: flag.int("autoscale: requests per second from the step on", {
    min: 1,
    max: 1_000_000,
    default: 400,
  }),
  "step-at": flag.duration("autoscale: when the load steps up", { default: "20s" }),
  "slo-p99": flag.duration("autoscale: the p99 latency objective", {
    default: "100ms",
    minMs: 1,
  }),
  background: flag.string("background: the deployment doing background work", {
    default: "deployment/boinc",
    placeholder: "deployment/NAME",
  }),
  "no-limits": flag.boolean("background: remove its CPU limits for the run (restored after)"),
  connections: flag.int("Connections per generator", { min: 1, max: 100_000, default: 32 }),
  parallelism: flag.int("Load generator processes", { min: 1, max: 64, default: 1 }),
  "request-timeout": flag.duration("Timeout of one request", { default: "2s", minMs: 1_000 }),
  "results-dir": flag.string("Directory for <id>.json results", {
    default: "results",
    placeholder: "DIR",
  }),
  "save-html": flag.string(
    "Also write a self-contained HTML report; PATH is optional (default <results-dir>/<id>.html)",
    { placeholder: "[PATH]" },
  ),
  ...kubeFlags,
  ...uiFlags,
};

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, expandOptionalValues(args));
  const kind = o.positionals[0]! as ExperimentKind;
  if (!EXPERIMENT_KINDS.includes(kind)) {
    throw new UsageError(
      `Unknown experiment "${kind}": expected one of ${EXPERIMENT_KINDS.join(", ")}`,
    );
  }
  const runId = newRunId();
  const dir = o.resultsDir.replace(/\/+$/, "");
  const target = parseDeploymentRef(o.target, o.namespace, "--target");
  const out: ExperimentOutcome = {};
  // The Kubernetes client and the experiment's machinery load only now: --help answers without them.
  const { experimentSteps } = await import("../lib/experiments/experiment_steps.ts");
  const steps = experimentSteps({
    kind,
    runId,
    target,
    url: o.url,
    ...(target.name === "countly-api" && !o.url ? { defaultPath: "/o/ping" } : {}),
    rate: kind === "autoscale" ? o.from : o.rate,
    timeMs: o.time ?? (kind === "autoscale" ? 120_000 : 60_000),
    connections: o.connections,
    parallelism: o.parallelism,
    requestTimeoutMs: o.requestTimeout,
    ...(kind === "chaos"
      ? { chaos: { kill: o.kill, atMs: o.at, signal: o.signal as "KILL" | undefined } }
      : {}),
    ...(kind === "autoscale"
      ? { autoscale: { toRate: o.to, stepAtMs: o.stepAt, sloP99Ms: o.sloP99 } }
      : {}),
    ...(kind === "background"
      ? {
        background: {
          target: parseDeploymentRef(o.background, o.namespace, "--background"),
          noLimits: o.noLimits,
        },
      }
      : {}),
    resultsDir: dir,
    saveHtml: o.saveHtml === undefined ? undefined : o.saveHtml || `${dir}/${runId}.html`,
    kube: { kubeconfig: o.kubeconfig, context: o.context },
    onSecond: showSecond,
    onEvent: (e) =>
      showMark(
        e.t_unix_ms,
        `${e.kind} ${e.subject}${e.value !== undefined ? ` (${e.value})` : ""}`,
      ),
  }, out);
  await runSteps(steps);
  const f = out.result!.figures;
  summaryLines(
    Object.entries(f).map(([k, v]) =>
      `${k}: ${typeof v === "number" ? Math.round(v * 1_000) / 1_000 : String(v)}`
    ).join(", "),
    ...(out.htmlPath ? [`HTML report: ${out.htmlPath}`] : []),
  );
  log.out(out.resultPath!);
}

if (import.meta.main) runMain(withUi(command, main));
