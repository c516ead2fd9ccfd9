/**
 * The rollout as steps (check the cluster, render with its secrets, apply in waves) and the line
 * that says what it did: what `rollout` and `demo` run.
 */
import type { Kube } from "../kube/client.ts";
import { sequence, type Step, type StepGroup } from "../steps.ts";
import { checkCluster, renderForCluster } from "./plan.ts";
import { plural, type RolloutReport, rolloutSteps } from "./rollout.ts";
import type { Values } from "./values.ts";
import type { Deadline } from "../wait.ts";

/** The rollout's steps: check the cluster, render with its secrets, apply in waves (used by demo too). */
export function rolloutPlan(
  kube: () => Kube,
  values: Values,
  o: { dryRun: boolean; diff: boolean; deadline: Deadline; prune: boolean },
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
