/**
 * rollout — deploy the demo stack (Prometheus, Pushgateway, node-exporter, Grafana, sharded
 * MongoDB, Countly, BOINC) onto the current cluster: server-side apply in dependency waves, each
 * waited for with watches, objects no longer rendered pruned. A re-run changes nothing.
 * Writes the run's timeline as `<results-dir>/<id>.json` (schema cncfdemo.rollout/v1; not for
 * --dry-run or --diff).
 *
 * Arguments: --context, --kubeconfig, --values FILE, --set PATH=VALUE, --dry-run, --diff,
 *            --timeout DURATION, --no-prune, --results-dir DIR
 * Example:   deno task rollout --set countly.api.minReplicas=3
 */
import { runMain } from "../lib/errors.ts";
import { type Command, flag, parseFlags } from "../lib/flags.ts";
import { kubeFlags } from "../lib/kube/flags.ts";
import { log } from "../lib/log.ts";
import { resultsDirFlag } from "../lib/report/schema.ts";
import { valuesFlags } from "../lib/stack/values_flags.ts";
import { runSteps } from "../lib/steps.ts";
import { deadline } from "../lib/wait.ts";
import { uiFlags, withUi } from "../lib/ui/live_ui.ts";
import { summaryLines } from "../lib/ui/emit.ts";

export const command: Command = {
  name: "rollout",
  summary:
    "Deploy the demo stack onto the current cluster, in dependency waves, and wait until it is ready.",
  examples: [
    "deno task rollout",
    "deno task rollout --context sim-cncfdemo --set mongo.persistence.enabled=false",
    "deno task rollout --diff",
  ],
};

export const flags = {
  ...kubeFlags,
  ...valuesFlags,
  "dry-run": flag.boolean("Server-side dry run: validate and report, change nothing"),
  diff: flag.boolean("Show what would change (server-side dry run), change nothing"),
  timeout: flag.duration("Deadline for the whole rollout", { default: "10m" }),
  "no-prune": flag.boolean("Keep managed objects that are no longer rendered"),
  "results-dir": resultsDirFlag("the rollout's <id>.json record"),
  ...uiFlags,
};

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, args);
  const until = deadline(o.timeout);
  // The stack, the Kubernetes client and the records load only now: --help answers without them.
  const [{ connectKube }, { checkTemplates }, { emptyReport }, { resolveValues }, plan, records] =
    await Promise.all([
      import("../lib/kube/client.ts"),
      import("../lib/stack/plan.ts"),
      import("../lib/stack/rollout.ts"),
      import("../lib/stack/values.ts"),
      import("../lib/stack/rollout_plan.ts"),
      import("../lib/report/records.ts"),
    ]);
  const { reportLine, rolloutPlan } = plan;
  const values = await resolveValues(o.values, o.set);
  await checkTemplates(values);
  const kube = await connectKube(o);
  const report = emptyReport();
  const dryRun = o.dryRun || o.diff;
  let record: string | undefined;
  try {
    const timeline = await runSteps(
      rolloutPlan(() => kube, values, {
        dryRun,
        diff: o.diff,
        deadline: until,
        prune: !o.noPrune,
      }, report),
    );
    if (!dryRun) {
      record = await records.recordRollout(o.resultsDir, {
        command: command.name,
        timeline,
        kube,
        values,
        report,
      });
    }
  } finally {
    kube.close();
  }
  if (o.diff) log.out(report.diffs.join("\n") || "No differences.");
  summaryLines(reportLine(report, dryRun), ...(record ? [`Record: ${record}`] : []));
}

if (import.meta.main) runMain(withUi(command, main));
