/**
 * Removing the deployed stack: every object carrying the managed labels (the wrk Jobs of a bench
 * too), deleted in reverse wave order, namespaces last, each wave waited for until it is gone.
 */
import { CncfdemoError } from "../errors.ts";
import { objectId } from "./render.ts";
import type { Kube } from "../kube/client.ts";
import type { Step } from "../steps.ts";
import { MANAGED_SELECTOR } from "./components.ts";
import { Deadline, deleteInWaves, readLiveState } from "./rollout.ts";

export function teardownAppsSteps(kube: () => Kube, timeoutMs: number): Step[] {
  return [{
    name: "Delete the demo stack",
    async run(ctx) {
      const live = await readLiveState(kube(), MANAGED_SELECTOR);
      if (!live.size) return "nothing to delete";
      const objects = [...live.values()];
      await deleteInWaves(kube(), objects, false, new Deadline(timeoutMs), ctx);
      const left = await readLiveState(kube(), MANAGED_SELECTOR);
      if (left.size) {
        throw new CncfdemoError(
          `Still present after deletion: ${
            [...left.values()].map(objectId).join(", ")
          }; run "deno task teardown --apps" again, or look at their finalizers`,
        );
      }
      return `deleted ${objects.length} objects`;
    },
  }];
}
