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
import { connectKube } from "../lib/kube/client.ts";
import { kubeFlags } from "../lib/kube/flags.ts";
import { log } from "../lib/log.ts";
import { checkCluster, checkTemplates, renderForCluster } from "../lib/stack/plan.ts";
import { emptyReport, plural, type RolloutReport, rolloutSteps } from "../lib/stack/rollout.ts";
import { resolveValues, type Values } from "../lib/stack/values.ts";
import { valuesFlags } from "../lib/stack/values_flags.ts";
import { runSteps, sequence, type Step, type StepGroup } from "../lib/steps.ts";
import type { Kube } from "../lib/kube/client.ts";
import { recordRollout, resultsDirFlag } from "../lib/report/records.ts";
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

/** The rollout's steps: check the cluster, render with its secrets, apply in waves (used by demo too). */
export function rolloutPlan(
  kube: () => Kube,
  values: Values,
  o: { dryRun: boolean; diff: boolean; timeoutMs: number; prune: boolean },
  report: RolloutReport,
): (Step | StepGroup)[] {
  let waves: (Step | StepGroup)[] = [];
  return [
    {
      name: "Check the cluster and render",
      async run() {
        await checkCluster(kube(), values);
        const { objects, reusedSecrets } = await renderForCluster(kube(), values);
        waves = rolloutSteps({ kube: kube(), objects, ...o }, report);
        return `${plural(objects.length, "object")}${
          reusedSecrets ? `, ${reusedSecrets} generated secrets reused` : ""
        }`;
      },
    },
    sequence(o.dryRun ? "Dry run" : "Apply in waves", () => waves),
  ];
}

/** One line saying what the rollout did. */
export function reportLine(r: RolloutReport, dryRun: boolean): string {
  const changed = r.created.length + r.configured.length + r.pruned.length;
  const total = r.created.length + r.configured.length + r.unchanged.length;
  if (!changed) {
    return `Nothing ${dryRun ? "would change" : "changed"}: all ${total} objects unchanged.`;
  }
  const parts = dryRun
    ? [
      `${r.created.length} to create`,
      `${r.configured.length} to change`,
      `${r.pruned.length} to delete`,
    ]
    : [
      `${r.created.length} created`,
      `${r.configured.length} configured`,
      `${r.pruned.length} pruned`,
    ];
  return `${dryRun ? "Dry run" : "Rollout complete"}: ${
    parts.join(", ")
  }, ${r.unchanged.length} unchanged.`;
}

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, args);
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
        timeoutMs: o.timeout,
        prune: !o.noPrune,
      }, report),
    );
    if (!dryRun) {
      record = await recordRollout(o.resultsDir, {
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
