/**
 * Removing the deployed stack: every object carrying the managed labels (the wrk Jobs of a bench
 * too), deleted in reverse wave order, namespaces last, each wave waited for until it is gone.
 */
import { CncfdemoError } from "../errors.ts";
import { objectId } from "./render.ts";
import type { Kube } from "../kube/client.ts";
import type { Step } from "../steps.ts";
import { MANAGED_SELECTOR } from "./components.ts";
import type { Deadline } from "../wait.ts";
import { deleteInWaves, readLiveState } from "./rollout.ts";

/** Deletes the stack, waiting for each wave to be gone within the task's `deadline`. */
export function teardownAppsSteps(kube: () => Kube, deadline: Deadline): Step[] {
  return [{
    name: "Delete the demo stack",
    async run(ctx) {
      const live = await readLiveState(kube(), MANAGED_SELECTOR);
      if (!live.size) return "nothing to delete";
      const objects = [...live.values()];
      await deleteInWaves(kube(), objects, false, deadline, ctx);
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
