/**
 * teardown — delete a cluster and everything cncfdemo made for it. Safe to run again: what is
 * already gone is reported as such.
 *
 * Arguments: --provider sim|aws, --name NAME, --kubeconfig FILE, --region REGION (aws),
 *            --timeout DURATION (aws)
 * Example:   deno task teardown --provider sim --name cncfdemo
 */
import { runMain, UsageError } from "../lib/errors.ts";
import { type Command, flag, parseFlags } from "../lib/flags.ts";
import { defaultKubeconfigPath } from "../lib/kube/client.ts";
import { log } from "../lib/log.ts";
import { clusterNameFlag } from "../lib/providers/sim_flags.ts";
import { simProvider } from "../lib/providers/sim.ts";
import { regionFlag } from "../lib/aws/flags.ts";
import { awsTeardown } from "../lib/aws/teardown_task.ts";
import { runSteps, type Step } from "../lib/steps.ts";

export const command: Command = {
  name: "teardown",
  summary: "Delete a cluster (--provider) and remove its kube context.",
  examples: ["deno task teardown --provider sim", "deno task teardown --provider sim --name big"],
};

export const flags = {
  provider: flag.choice("Where the cluster runs", ["sim", "aws"] as const, {
    placeholder: "sim|aws",
  }),
  name: clusterNameFlag,
  kubeconfig: flag.string(
    "Kubeconfig holding the cluster's context (default: $KUBECONFIG's first file, else ~/.kube/config)",
    {
      placeholder: "FILE",
    },
  ),
  region: regionFlag,
  timeout: flag.duration("aws: how long to retry deletes blocked by dependencies", {
    default: "15m",
  }),
};

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, args);
  const steps: Step[] = [];
  if (!o.provider) {
    throw new UsageError("Nothing to tear down: pass --provider sim or aws (see --help)");
  }
  const kubeconfig = o.kubeconfig ?? defaultKubeconfigPath();
  if (o.provider === "aws") {
    await awsTeardown({ name: o.name, region: o.region, kubeconfig, timeoutMs: o.timeout });
    log.info(`Cluster "${o.name}" (aws) is gone.`);
    return;
  }
  steps.push(...simProvider.teardownSteps({ name: o.name, kubeconfig }));
  await runSteps(steps);
  log.info(`Cluster "${o.name}" (${o.provider}) is gone.`);
}

if (import.meta.main) runMain(main);
