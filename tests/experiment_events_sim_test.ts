/**
 * The experiment's event recorder (lib/experiments/event_recorder.ts) against a real API server
 * (bootstrap:sim: kwok marks pods Ready): the first state is recorded once listed, and a pod
 * deleted then replaced by its Deployment shows as NotReady/deleted, then a new pod created and
 * Ready, in that order, with the Ready count each time.
 */
import assert from "node:assert/strict";
import type { V1Pod } from "@kubernetes/client-node";
import { recordEvents } from "../lib/experiments/event_recorder.ts";
import type { ObjectRef } from "../lib/kube/rest.ts";
import { watchUntil } from "../lib/kube/watch.ts";
import { withSimCluster } from "./support/sim_cluster.ts";

const ready = (p: V1Pod) =>
  !p.metadata?.deletionTimestamp &&
  (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

Deno.test("event recorder: a pod replaced by its Deployment, seen through watches", async () => {
  await withSimCluster(["--nodes", "1"], async ({ kube }) => {
    const ns = "default";
    await kube.rest.apply({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "ev", namespace: ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "ev" } },
        template: {
          metadata: { labels: { app: "ev" } },
          spec: {
            tolerations: [{ operator: "Exists" }],
            containers: [{ name: "c", image: "example.invalid/none:1" }],
          },
        },
      },
    } as ObjectRef, { fieldManager: "cncfdemo-test" });
    const pods = { apiVersion: "v1", kind: "Pod", namespace: ns, labelSelector: "app=ev" };
    const up = await watchUntil<V1Pod>(kube, pods, (ps) => ps.filter(ready).length === 2, {
      timeoutMs: 60_000,
      describe: (ps) => `${ps.filter(ready).length} of 2 pods Ready`,
    });
    const rec = recordEvents(kube, { namespace: ns, podSelector: "app=ev", timeoutMs: 60_000 });
    await rec.synced;
    assert.deepEqual(rec.readyPods().sort(), up.map((p) => p.metadata!.name!).sort());
    const victim = up[0]!.metadata!.name!;
    rec.add({ kind: "kill", subject: victim });
    await kube.core.deleteNamespacedPod({ name: victim, namespace: ns, gracePeriodSeconds: 0 });
    await watchUntil<V1Pod>(
      kube,
      pods,
      (ps) => ps.filter(ready).length === 2 && !ps.some((p) => p.metadata?.name === victim),
      { timeoutMs: 60_000, describe: (ps) => `${ps.filter(ready).length} Ready` },
    );
    // The watch may see the last change a moment after the condition above: wait for it too.
    const deadline = Date.now() + 10_000;
    while (rec.events.filter((e) => e.kind === "pod-ready").length < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const events = await rec.stop();
    const kinds = events.map((e) => `${e.t_unix_ms} ${e.kind} ${e.subject}`);
    const at = (k: string, subject?: string) =>
      events.findIndex((e) => e.kind === k && (subject === undefined || e.subject === subject));
    const kill = at("kill");
    const gone = at("pod-deleted", victim);
    // The first pod created after the kill (events of the same millisecond keep their order).
    const newPod = events.slice(kill + 1).find((e) => e.kind === "pod-created")?.subject;
    assert.ok(newPod && newPod !== victim, kinds.join(", "));
    assert.ok(kill >= 0 && gone > kill, kinds.join(", "));
    assert.ok(at("pod-ready", newPod) > at("pod-created", newPod), kinds.join(", "));
    // The first state: two pods created and Ready before the kill; Ready counts as they came.
    assert.equal(events.slice(0, kill).filter((e) => e.kind === "pod-ready").length, 2);
    assert.equal(events[at("pod-ready", newPod)]!.value, 2);
    assert.ok(events.every((e, i) => i === 0 || e.t_unix_ms >= events[i - 1]!.t_unix_ms));
  });
});
