/**
 * teardown — delete what cncfdemo made: the deployed stack (--apps: every labelled object, in
 * reverse wave order, waited for until gone) and/or a cluster (--provider). Safe to run again:
 * what is already gone is reported as such.
 *
 * Arguments: --apps, --context NAME, --provider sim|aws, --name NAME, --kubeconfig FILE,
 *            --region REGION (aws), --timeout DURATION
 * Example:   deno task teardown --apps
 *            deno task teardown --provider sim --name cncfdemo
 */
import { runMain, UsageError } from "../lib/errors.ts";
import { type Command, flag, parseFlags } from "../lib/flags.ts";
import { connectKube, defaultKubeconfigPath } from "../lib/kube/client.ts";
import { teardownAppsSteps } from "../lib/stack/teardown_apps.ts";
import { log } from "../lib/log.ts";
import { clusterNameFlag } from "../lib/providers/sim_flags.ts";
import { simProvider } from "../lib/providers/sim.ts";
import { regionFlag } from "../lib/aws/flags.ts";
import { awsTeardown } from "../lib/aws/teardown_task.ts";
import { runSteps, type Step, type StepGroup } from "../lib/steps.ts";

export const command: Command = {
  name: "teardown",
  summary:
    "Delete the deployed stack (--apps) and/or a cluster (--provider) with its kube context.",
  examples: [
    "deno task teardown --apps",
    "deno task teardown --provider sim",
    "deno task teardown --provider sim --name big",
  ],
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
  apps: flag.boolean("Delete the deployed demo stack (everything labelled managed-by=cncfdemo)"),
  context: flag.string("Kube context for --apps (default: the current context)", {
    placeholder: "NAME",
  }),
  region: regionFlag,
  timeout: flag.duration(
    "How long to wait: --apps until everything is gone; aws while retrying deletes blocked by dependencies",
    { default: "15m" },
  ),
};

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, args);
  const steps: (Step | StepGroup)[] = [];
  if (!o.provider && !o.apps) {
    throw new UsageError("Nothing to tear down: pass --apps, or --provider sim|aws (see --help)");
  }
  if (o.apps) {
    const kube = await connectKube({ kubeconfig: o.kubeconfig, context: o.context });
    try {
      await runSteps(teardownAppsSteps(() => kube, o.timeout));
    } finally {
      kube.close();
    }
    log.info(`The demo stack is gone from context ${kube.context}.`);
    if (!o.provider) return;
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
