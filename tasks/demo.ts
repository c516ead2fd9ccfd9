/**
 * demo — the whole pipeline in one command: bootstrap a cluster (simulated by default), then
 * say where each part lives. Later stages (rollout, bench) join as they land.
 *
 * Arguments: the flags of bootstrap:sim (--name, --nodes, --node-cpu, --node-memory, ...)
 * Example:   deno task demo
 */
import { runMain } from "../lib/errors.ts";
import { type Command, flag, parseFlags } from "../lib/flags.ts";
import { defaultKubeconfigPath } from "../lib/kube/client.ts";
import { assertKubeconfigWritable } from "../lib/kube/kubeconfig.ts";
import { log } from "../lib/log.ts";
import type { ClusterInfo } from "../lib/providers/provider.ts";
import { simProvider } from "../lib/providers/sim.ts";
import { simFlags } from "../lib/providers/sim_flags.ts";
import { runSteps } from "../lib/steps.ts";

export const command: Command = {
  name: "demo",
  summary: "Bootstrap a simulated cluster and deploy the demo onto it.",
  examples: ["deno task demo", "deno task demo --nodes 10"],
};

export const flags = {
  provider: flag.choice("Where to run the demo", ["sim"] as const, { default: "sim" }),
  ...simFlags,
  kubeconfig: flag.string("Kubeconfig to merge the cluster's context into", {
    placeholder: "FILE",
  }),
};

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, args);
  const kubeconfig = o.kubeconfig ?? defaultKubeconfigPath();
  await assertKubeconfigWritable(kubeconfig);
  const info: Partial<ClusterInfo> = {};
  await runSteps(simProvider.bootstrapSteps({ ...o, kubeconfig, timeoutMs: o.timeout }, info));
  log.info("");
  log.info(`Cluster:    ${info.server} (context ${info.context}, ${o.nodes} simulated nodes)`);
  log.info(`Kubeconfig: ${kubeconfig}`);
  log.info(`Try:        kubectl --context ${info.context} get nodes`);
  log.info(`Tear down:  deno task teardown --provider sim --name ${o.name}`);
}

if (import.meta.main) runMain(main);
