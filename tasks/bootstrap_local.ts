/**
 * bootstrap:local — create (or converge) a real single-node cluster on this machine (Linux, root,
 * like minikube's none driver): the pinned control plane with a real PKI, a kubelet and kube-proxy
 * over containerd and runc, a pod network on a local bridge, CoreDNS, metrics-server and a default
 * StorageClass; images built here (--images offline) or pulled. Every listener is on 127.0.0.1 or
 * the node's bridge, pods' traffic stays on the machine, and the kube context `local-<name>` is
 * made current. Re-running converges; `deno task teardown --provider local` removes it all.
 *
 * Writes the run's timeline as `<results-dir>/<id>.json` (schema cncfdemo.bootstrap/v1).
 *
 * Arguments: --name NAME, --pod-cidr CIDR, --service-cidr CIDR, --api-port N,
 *            --images offline|pull, --kubeconfig FILE, --bin-dir DIR, --timeout DURATION,
 *            --results-dir DIR
 * Example:   sudo deno task bootstrap:local --images offline
 */
import { runMain } from "../lib/errors.ts";
import { type Command, flag, parseFlags } from "../lib/flags.ts";
import { localFlags } from "../lib/providers/local_flags.ts";
import type { ClusterInfo } from "../lib/providers/provider.ts";
import { resultsDirFlag } from "../lib/report/schema.ts";
import { runSteps } from "../lib/steps.ts";
import { uiFlags, withUi } from "../lib/ui/live_ui.ts";
import { summaryLines } from "../lib/ui/emit.ts";

export const command: Command = {
  name: "bootstrap:local",
  summary:
    "Create or converge a real single-node cluster on this machine (Linux, root): real containers.",
  examples: [
    "sudo deno task bootstrap:local",
    "sudo deno task bootstrap:local --images offline --pod-cidr 10.123.0.0/16",
  ],
};

export const flags = {
  ...localFlags,
  kubeconfig: flag.string(
    "Kubeconfig to merge the local-<name> context into (default: $KUBECONFIG's first file, else ~/.kube/config)",
    { placeholder: "FILE" },
  ),
  "results-dir": resultsDirFlag("the bootstrap's <id>.json record"),
  ...uiFlags,
};

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, args);
  // Loaded after the flags parse, so that --help and usage errors answer at once.
  const { defaultKubeconfigPath } = await import("../lib/kube/client.ts");
  const { assertKubeconfigWritable } = await import("../lib/kube/kubeconfig.ts");
  const { localProvider } = await import("../lib/providers/local.ts");
  const { bootstrapFacts, existedBefore, recordBootstrap } = await import(
    "../lib/report/records.ts"
  );
  const kubeconfig = o.kubeconfig ?? defaultKubeconfigPath();
  await assertKubeconfigWritable(kubeconfig);
  const info: Partial<ClusterInfo> = {};
  const options = { ...o, kubeconfig, timeoutMs: o.timeout };
  await localProvider.preflight!(options);
  const existed = await existedBefore(localProvider, o.name);
  const timeline = await runSteps(localProvider.bootstrapSteps(options, info));
  const record = await recordBootstrap(o.resultsDir, {
    command: command.name,
    timeline,
    info,
    existed,
    ...bootstrapFacts("local", o),
  });
  summaryLines(
    `Record: ${record}`,
    `Cluster "${o.name}" is ready; context ${info.context} is current in ${kubeconfig}.`,
    `  kubectl --context ${info.context} get nodes`,
    `  deno task teardown --provider local --name ${o.name}`,
  );
}

if (import.meta.main) runMain(withUi(command, main));
