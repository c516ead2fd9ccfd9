/**
 * Autoscalers must get metrics, on a real control plane (simulated nodes, metrics-server on
 * kwok's simulated usage): the rollout ends with Countly's HorizontalPodAutoscaler ScalingActive
 * and a current CPU value; without a resource metrics API the autoscaler wave fails at once in one
 * line; with a metrics API that serves nothing, the deadline names ScalingActive, its reason and
 * its message.
 */
import assert from "node:assert/strict";
import type { KubernetesObject } from "@kubernetes/client-node";
import { readiness } from "../lib/kube/readiness.ts";
import { watchUntil } from "../lib/kube/watch.ts";
import { withSimCluster } from "./support/sim_cluster.ts";

const SIM = ["--set", "mongo.persistence.enabled=false", "--set", "boinc.enabled=false"];
const HPA = { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler" };
// deno-lint-ignore no-explicit-any
type Any = any;

const scalingActive = (hpa: Any) =>
  (hpa?.status?.conditions ?? []).find((c: Any) => c.type === "ScalingActive");

Deno.test("rollout: Countly's autoscaler is ready once its metrics arrive; without them, one line", async (t) => {
  await withSimCluster(["--nodes", "2"], async ({ sb, kube }) => {
    await t.step("the rollout waits for ScalingActive, with a current CPU value", async () => {
      const r = await sb.task("rollout.ts", [...SIM, "--timeout", "3m"]);
      assert.equal(r.code, 0, r.stderr);
      const hpa = await kube.rest.get<KubernetesObject>({
        ...HPA,
        metadata: { name: "countly-api", namespace: "cncfdemo" },
      });
      assert.equal(scalingActive(hpa)?.status, "True");
      assert.equal(scalingActive(hpa)?.reason, "ValidMetricFound");
      const r2 = readiness(hpa!);
      assert.ok(r2.ready);
      assert.match(r2.status, /^cpu \d+%\/70%, 2 current, 2 desired replicas$/);
    });

    await t.step(
      "a cluster with no resource metrics API: the autoscaler wave fails at once",
      async () => {
        await kube.rest.delete({
          apiVersion: "apiregistration.k8s.io/v1",
          kind: "APIService",
          metadata: { name: "v1beta1.metrics.k8s.io" },
        });
        await watchUntil(
          kube,
          {
            apiVersion: "apiregistration.k8s.io/v1",
            kind: "APIService",
            fieldSelector: "metadata.name=v1beta1.metrics.k8s.io",
          },
          (xs) => xs.length === 0,
          { timeoutMs: 30_000, describe: () => "the APIService was not deleted" },
        );
        const t0 = performance.now();
        const r = await sb.task("rollout.ts", [...SIM, "--timeout", "3m"]);
        assert.equal(r.code, 1);
        assert.ok(performance.now() - t0 < 60_000, "failed before the deadline");
        const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
        assert.deepEqual(errors, [
          "error: HorizontalPodAutoscaler cncfdemo/countly-api cannot get CPU metrics: this cluster serves no resource metrics API (metrics.k8s.io/v1beta1), so ScalingActive never turns True; install metrics-server (the sim, local and aws providers run it)",
        ]);
      },
    );

    await t.step(
      "a metrics API that serves nothing: the deadline names ScalingActive and why",
      async () => {
        // registered, but its Service does not exist: the API server answers 503, dialling nothing
        await kube.rest.apply(
          {
            apiVersion: "apiregistration.k8s.io/v1",
            kind: "APIService",
            metadata: { name: "v1beta1.metrics.k8s.io" },
            spec: {
              group: "metrics.k8s.io",
              version: "v1beta1",
              groupPriorityMinimum: 100,
              versionPriority: 100,
              insecureSkipTLSVerify: true,
              service: { name: "no-such-metrics-server", namespace: "kube-system" },
            },
          } as KubernetesObject & { apiVersion: string; kind: string },
          { fieldManager: "test" },
        );
        // the autoscaler controller notices on its next sync (5 s on sim clusters)
        await watchUntil<KubernetesObject>(
          kube,
          { ...HPA, namespace: "cncfdemo", fieldSelector: "metadata.name=countly-api" },
          (xs) => scalingActive(xs[0])?.status === "False",
          { timeoutMs: 60_000, describe: () => "ScalingActive never turned False" },
        );
        const r = await sb.task("rollout.ts", [...SIM, "--timeout", "20s"]);
        assert.equal(r.code, 1);
        const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
        assert.equal(errors.length, 1, r.stderr);
        assert.match(
          errors[0]!,
          /^error: Not ready within 20\.0s: .*HorizontalPodAutoscaler cncfdemo\/countly-api \(ScalingActive=False \(FailedGetResourceMetric\): the HPA was unable to compute the replica count: [^\n]*\)/,
        );
      },
    );
  });
});
