/**
 * Background work yields: on a simulated cluster whose idle capacity BOINC fills, scaling the
 * Countly API up makes the real kube-scheduler preempt BOINC pods (low PriorityClass) so that every
 * Countly pod runs.
 */
import assert from "node:assert/strict";
import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import { watchUntil } from "../lib/kube/watch.ts";
import { parseQuantity } from "../lib/quantity.ts";
import { withSimCluster } from "./support/sim_cluster.ts";

const NS = "cncfdemo";
const BOINC = "app.kubernetes.io/component=boinc";
const COUNTLY = "app.kubernetes.io/component=countly-api";

const running = (p: V1Pod) => p.status?.phase === "Running" && !p.metadata?.deletionTimestamp;
const unschedulable = (p: V1Pod) =>
  p.status?.conditions?.some((c) =>
    c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable"
  ) ??
    false;
const cpu = (p: V1Pod) =>
  (p.spec?.containers ?? []).reduce(
    (sum, c) => sum + (parseQuantity(String(c.resources?.requests?.cpu ?? "0")) ?? 0),
    0,
  );

Deno.test("priority: scaling Countly up preempts BOINC and every Countly pod runs", async () => {
  await withSimCluster(["--nodes", "3", "--node-cpu", "4"], async ({ sb, kube }) => {
    const base = [
      "--set",
      "mongo.persistence.enabled=false",
      "--set",
      "boinc.replicas=12",
      "--set",
      "boinc.cpuRequest=1",
      "--set",
      "boinc.cpuLimit=1",
      "--set",
      "countly.api.maxReplicas=30",
    ];
    const first = await sb.task("rollout.ts", base);
    assert.equal(first.code, 0, first.stderr);

    // BOINC fills the idle capacity: every worker either runs or waits for room.
    const boincBefore = await watchUntil<V1Pod>(
      kube,
      { apiVersion: "v1", kind: "Pod", namespace: NS, labelSelector: BOINC },
      (ps) => ps.length === 12 && ps.every((p) => running(p) || unschedulable(p)),
      {
        timeoutMs: 60_000,
        describe: (ps) => `BOINC pods not settled: ${ps.map((p) => p.status?.phase).join(",")}`,
      },
    );
    const runningBefore = boincBefore.filter(running).length;
    assert.ok(runningBefore > 0, "some BOINC workers run");
    assert.ok(runningBefore < 12, "the cluster is full: some BOINC workers wait for room");

    // Free CPU left on the nodes, after everything that runs.
    const pods = (await kube.core.listPodForAllNamespaces()).items.filter((p) =>
      p.spec?.nodeName && !["Succeeded", "Failed"].includes(p.status?.phase ?? "")
    );
    const nodes = (await kube.core.listNode()).items;
    const freeByNode = nodes.map((n) => {
      const used = pods.filter((p) => p.spec?.nodeName === n.metadata?.name).reduce(
        (s, p) => s + cpu(p),
        0,
      );
      return parseQuantity(String(n.status?.allocatable?.cpu))! - used;
    });
    assert.ok(
      freeByNode.every((f) => f < 1),
      `no node has room for another BOINC worker (${freeByNode})`,
    );
    const free = freeByNode.reduce((a, b) => a + b, 0);

    // Ask for more Countly API pods than the idle capacity could hold.
    const current =
      (await kube.apps.readNamespacedDeployment({ name: "countly-api", namespace: NS })).spec
        ?.replicas ?? 0;
    const want = current + Math.ceil((free + 2) / 0.5);
    const scaled = await sb.task("rollout.ts", [
      ...base,
      "--set",
      `countly.api.minReplicas=${want}`,
    ]);
    assert.equal(scaled.code, 0, scaled.stderr);

    const [deploy] = await watchUntil<V1Deployment>(
      kube,
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        namespace: NS,
        fieldSelector: "metadata.name=countly-api",
      },
      (ds) => ds[0]?.status?.availableReplicas === want && ds[0]?.spec?.replicas === want,
      {
        timeoutMs: 90_000,
        describe: (ds) => `countly-api: ${ds[0]?.status?.availableReplicas}/${want} available`,
      },
    );
    assert.equal(deploy?.status?.availableReplicas, want);
    const countly =
      (await kube.core.listNamespacedPod({ namespace: NS, labelSelector: COUNTLY })).items;
    assert.equal(countly.filter(running).length, want, "every Countly API pod runs");

    const boincAfter =
      (await kube.core.listNamespacedPod({ namespace: NS, labelSelector: BOINC })).items;
    const runningAfter = boincAfter.filter(running).length;
    assert.ok(
      runningAfter < runningBefore,
      `BOINC yielded: ${runningBefore} → ${runningAfter} running`,
    );
    assert.ok(
      boincAfter.filter((p) => !running(p)).length > 0,
      "preempted BOINC workers wait for room",
    );
  });
});
