/**
 * demo — the whole pipeline in one command, on a simulated cluster by default: bootstrap the
 * cluster, roll out the stack (Prometheus, Grafana, sharded MongoDB, Countly, BOINC), run a short
 * benchmark when the cluster can run containers (or say why not), then say where each part lives.
 *
 * Arguments: the flags of bootstrap:sim (--name, --nodes, --node-cpu, --node-memory, ...), the
 *            values flags of rollout (--values, --set), --timeout, --no-bench
 * Example:   deno task demo
 *            deno task demo --nodes 10 --set countly.api.minReplicas=4
 */
import { type BenchOutcome, benchSteps, demoBenchOptions } from "../lib/bench/bench_steps.ts";
import { canRunContainers } from "../lib/bench/can_run_containers.ts";
import { runMain } from "../lib/errors.ts";
import { type Command, flag, parseFlags } from "../lib/flags.ts";
import { connectKube, defaultKubeconfigPath, type Kube } from "../lib/kube/client.ts";
import { assertKubeconfigWritable } from "../lib/kube/kubeconfig.ts";
import { log } from "../lib/log.ts";
import type { ClusterInfo } from "../lib/providers/provider.ts";
import { simProvider } from "../lib/providers/sim.ts";
import { simFlags } from "../lib/providers/sim_flags.ts";
import { checkTemplates } from "../lib/stack/plan.ts";
import { emptyReport } from "../lib/stack/rollout.ts";
import { resolveValues, type Values } from "../lib/stack/values.ts";
import { valuesFlags } from "../lib/stack/values_flags.ts";
import { runSteps, sequence, type Step, type StepGroup } from "../lib/steps.ts";
import { reportLine, rolloutPlan } from "./rollout.ts";

export const command: Command = {
  name: "demo",
  summary:
    "Bootstrap a simulated cluster, roll out the demo stack, benchmark it when it can, and show where things are.",
  examples: ["deno task demo", "deno task demo --nodes 10 --set countly.api.minReplicas=4"],
};

export const flags = {
  provider: flag.choice("Where to run the demo", ["sim"] as const, { default: "sim" }),
  ...simFlags,
  ...valuesFlags,
  kubeconfig: flag.string("Kubeconfig to merge the cluster's context into", {
    placeholder: "FILE",
  }),
  "no-bench": flag.boolean("Skip the closing benchmark"),
};

/** Where each part of the stack lives, for the closing lines. */
export function whereThingsAre(values: Values, context: string): string[] {
  const k = `kubectl --context ${context}`;
  const mon = values.monitoringNamespace;
  const app = values.namespace;
  return [
    `Grafana:      ${k} -n ${mon} port-forward svc/grafana 3000  → http://127.0.0.1:3000 (user ${values.grafana.adminUser})`,
    `              password: ${k} -n ${mon} get secret grafana-admin -o jsonpath='{.data.admin-password}' | base64 -d`,
    `Prometheus:   ${k} -n ${mon} port-forward svc/prometheus 9090  → http://127.0.0.1:9090`,
    `Pushgateway:  svc/pushgateway.${mon}:9091`,
    `Countly API:  ${k} -n ${app} port-forward svc/countly-api 3001  (app key: secret countly, key app-key)`,
    `Dashboard:    ${k} -n ${app} port-forward svc/countly-dashboard 6001`,
    `MongoDB:      svc/mongos.${app}:27017 (reachable from Countly and the init Jobs only)`,
    `BOINC:        ${k} -n ${app} get deploy boinc  (background, lowest priority)`,
  ];
}

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, args);
  const kubeconfig = o.kubeconfig ?? defaultKubeconfigPath();
  await assertKubeconfigWritable(kubeconfig);
  // A simulated cluster has no volume provisioner: MongoDB keeps its data in emptyDir there,
  // unless the values say otherwise.
  const sets = o.set.some((s) => s.startsWith("mongo.persistence."))
    ? o.set
    : ["mongo.persistence.enabled=false", ...o.set];
  const values = await resolveValues(o.values, sets);
  await checkTemplates(values);
  const info: Partial<ClusterInfo> = {};
  let kube: Kube | undefined;
  const getKube = () => kube!;
  const report = emptyReport();
  const bench: BenchOutcome = {};
  let skipped = "";
  const steps: (Step | StepGroup)[] = [
    sequence(
      "Bootstrap the simulated cluster",
      simProvider.bootstrapSteps({ ...o, kubeconfig, timeoutMs: o.timeout }, info),
    ),
    {
      name: "Connect",
      async run() {
        kube = await connectKube({ kubeconfig, context: info.context });
        return `${kube.context} at ${kube.server}`;
      },
    },
    sequence(
      "Roll out the stack",
      rolloutPlan(getKube, values, {
        dryRun: false,
        diff: false,
        timeoutMs: o.timeout,
        prune: true,
      }, report),
    ),
    sequence("Benchmark", async () => {
      const skip = (why: string) => {
        skipped = why;
        return [{ name: "Skip the benchmark", run: () => Promise.resolve(why) }];
      };
      if (o.noBench) return skip("--no-bench");
      const can = await canRunContainers(getKube());
      if (!can.ok) return skip(can.reason);
      return benchSteps(demoBenchOptions({ kubeconfig, context: info.context }), bench);
    }),
  ];
  try {
    await runSteps(steps);
  } finally {
    kube?.close();
  }
  log.info("");
  log.info(reportLine(report, false));
  if (skipped) log.info(`Benchmark skipped: ${skipped}.`);
  if (bench.resultPath) log.info(`Benchmark result: ${bench.resultPath}`);
  log.info(`Cluster:      ${info.server} (context ${info.context}, ${o.nodes} simulated nodes)`);
  for (const line of whereThingsAre(values, info.context!)) log.info(line);
  if (skipped && !o.noBench) {
    log.info(
      "(Simulated nodes run no containers: port-forwards work on a cluster that runs them.)",
    );
  }
  log.info(`Tear down:    deno task teardown --provider sim --name ${o.name}`);
}

if (import.meta.main) runMain(main);
