/**
 * bootstrap:sim — create (or reconcile) a simulated Kubernetes cluster: a real control plane
 * (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) on 127.0.0.1 with kwok nodes,
 * and a kube context `sim-<name>` made current in your kubeconfig, as kind does.
 * Re-running with the same name reuses the cluster and reconciles the node count and capacity.
 *
 * Writes the run's timeline as `<results-dir>/<id>.json` (schema cncfdemo.bootstrap/v1).
 *
 * Arguments: --name NAME, --nodes N, --node-cpu Q, --node-memory Q, --node-pods N,
 *            --kubeconfig FILE, --bin-dir DIR, --timeout DURATION, --results-dir DIR
 * Example:   deno task bootstrap:sim --nodes 1000 --node-cpu 16
 */
import { runMain } from "../lib/errors.ts";
import { type Command, flag, parseFlags } from "../lib/flags.ts";
import type { ClusterInfo } from "../lib/providers/provider.ts";
import { simFlags } from "../lib/providers/sim_flags.ts";
import { resultsDirFlag } from "../lib/report/schema.ts";
import { runSteps } from "../lib/steps.ts";
import { uiFlags, withUi } from "../lib/ui/live_ui.ts";
import { summaryLines } from "../lib/ui/emit.ts";

export const command: Command = {
  name: "bootstrap:sim",
  summary: "Create or reconcile a simulated cluster: real control plane on 127.0.0.1, kwok nodes.",
  examples: [
    "deno task bootstrap:sim",
    "deno task bootstrap:sim --name big --nodes 1000 --node-cpu 16",
  ],
};

export const flags = {
  ...simFlags,
  kubeconfig: flag.string(
    "Kubeconfig to merge the sim-<name> context into (default: $KUBECONFIG's first file, else ~/.kube/config)",
    {
      placeholder: "FILE",
    },
  ),
  "results-dir": resultsDirFlag("the bootstrap's <id>.json record"),
  ...uiFlags,
};

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, args);
  // The heavy modules load once the flags are good: --help and usage errors answer without them.
  const [{ assertKubeconfigWritable }, { defaultKubeconfigPath }, { simProvider }, records] =
    await Promise.all([
      import("../lib/kube/kubeconfig.ts"),
      import("../lib/kube/client.ts"),
      import("../lib/providers/sim.ts"),
      import("../lib/report/records.ts"),
    ]);
  const { bootstrapFacts, existedBefore, recordBootstrap } = records;
  const kubeconfig = o.kubeconfig ?? defaultKubeconfigPath();
  await assertKubeconfigWritable(kubeconfig);
  const info: Partial<ClusterInfo> = {};
  const existed = await existedBefore(simProvider, o.name);
  const timeline = await runSteps(
    simProvider.bootstrapSteps({ ...o, kubeconfig, timeoutMs: o.timeout }, info),
  );
  const record = await recordBootstrap(o.resultsDir, {
    command: command.name,
    timeline,
    info,
    existed,
    ...bootstrapFacts("sim", o),
  });
  summaryLines(
    `Record: ${record}`,
    `Cluster "${o.name}" is ready; context ${info.context} is current in ${kubeconfig}.`,
    `  kubectl --context ${info.context} get nodes`,
    `  deno task teardown --provider sim --name ${o.name}`,
  );
}

if (import.meta.main) runMain(withUi(command, main));
