/**
 * teardown — delete what cncfdemo made: the deployed stack (--apps: every labelled object, in
 * reverse wave order, waited for until gone) and/or a cluster (--provider, through the provider
 * registry). Safe to run again: what is already gone is reported as such.
 *
 * Arguments: --apps, --context NAME, --provider sim|local|aws, --name NAME, --kubeconfig FILE,
 *            --region REGION (aws), --timeout DURATION
 * Example:   deno task teardown --apps
 *            deno task teardown --provider sim --name cncfdemo
 */
import { runMain, UsageError } from "../lib/errors.ts";
import { type Command, flag, parseFlags } from "../lib/flags.ts";
import { clusterNameFlag } from "../lib/providers/sim_flags.ts";
import {
  mergeFlagSpecs,
  PROVIDER_IDS,
  providerEntry,
  refuseForeignFlags,
} from "../lib/providers/providers.ts";
import { runSteps } from "../lib/steps.ts";
import { deadline } from "../lib/wait.ts";
import { uiFlags, withUi } from "../lib/ui/live_ui.ts";
import { summaryLines } from "../lib/ui/emit.ts";

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

const common = {
  provider: flag.choice("Where the cluster runs", PROVIDER_IDS, {
    placeholder: PROVIDER_IDS.join("|"),
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
  timeout: flag.duration(
    "How long to wait: --apps until everything is gone; aws while retrying deletes blocked by dependencies",
    { default: "15m" },
  ),
  ...uiFlags,
};

/** The common flags and every provider's teardown flags (`--region` for aws). */
export const flags = {
  ...common,
  ...mergeFlagSpecs(
    PROVIDER_IDS.map((id) => providerEntry(id).teardownFlags),
    PROVIDER_IDS.map((id) => `--provider ${id}`),
  ),
  ...common,
};

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, args);
  if (!o.provider && !o.apps) {
    throw new UsageError(
      `Nothing to tear down: pass --apps, or --provider ${PROVIDER_IDS.join("|")} (see --help)`,
    );
  }
  const until = deadline(o.timeout);
  const entry = o.provider ? providerEntry(o.provider) : undefined;
  if (o.provider) {
    refuseForeignFlags(args, o.provider, entry!.teardownFlags, (e) => e.teardownFlags);
  }
  // The Kubernetes client loads once the input is known to be good.
  const { connectKube, defaultKubeconfigPath } = await import("../lib/kube/client.ts");
  if (o.apps) {
    const { teardownAppsSteps } = await import("../lib/stack/teardown_apps.ts");
    const kube = await connectKube({ kubeconfig: o.kubeconfig, context: o.context });
    try {
      await runSteps(teardownAppsSteps(() => kube, until));
    } finally {
      kube.close();
    }
    summaryLines(`The demo stack is gone from context ${kube.context}.`);
  }
  if (!o.provider || !entry) return;
  await entry.teardown({
    name: o.name,
    kubeconfig: o.kubeconfig ?? defaultKubeconfigPath(),
    deadline: until,
    flags: o as unknown as Record<string, unknown>,
  });
  summaryLines(`Cluster "${o.name}" (${o.provider}) is gone.`);
}

if (import.meta.main) runMain(withUi(command, main));
