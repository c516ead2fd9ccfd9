import assert from "node:assert/strict";
import { displayTarget, jobName, wrkJob } from "./cluster_runner.ts";

const base = {
  runId: "20261124-101010-abcd",
  namespace: "cncfdemo",
  image: "ghcr.io/cncfdemo/wrk:0.1.0",
  parallelism: 4,
  durationS: 30,
  connections: 64,
  threads: 2,
  requestTimeoutS: 2,
  statusCounts: false,
  pushgatewayUrl: "http://pushgateway.monitoring:9091",
  deadlineS: 390,
};

Deno.test("wrkJob: labelled, indexed, never on kwok nodes, app key only by reference", () => {
  const job = wrkJob(base);
  assert.equal(job.metadata?.name, jobName(base.runId));
  for (const labels of [job.metadata?.labels, job.spec?.template.metadata?.labels]) {
    assert.equal(labels?.["app.kubernetes.io/part-of"], "cncfdemo");
    assert.equal(labels?.["app.kubernetes.io/managed-by"], "cncfdemo");
    assert.equal(labels?.["app.kubernetes.io/component"], "wrk");
  }
  assert.equal(job.spec?.completions, 4);
  assert.equal(job.spec?.parallelism, 4);
  assert.equal(job.spec?.backoffLimit, 0);
  const pod = job.spec!.template.spec!;
  assert.equal(pod.automountServiceAccountToken, false);
  assert.deepEqual(
    pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms,
    [{ matchExpressions: [{ key: "type", operator: "NotIn", values: ["kwok"] }] }],
  );
  const env = Object.fromEntries(pod.containers[0]!.env!.map((e) => [e.name, e]));
  assert.equal(env.WRK_URL?.value?.includes("app_key=$(COUNTLY_APP_KEY)"), true);
  assert.deepEqual(env.COUNTLY_APP_KEY?.valueFrom?.secretKeyRef, {
    name: "countly",
    key: "app-key",
  });
  assert.equal(env.WRK_GENERATOR?.value, "g$(WRK_INDEX)");
  assert.equal(pod.containers[0]!.resources?.limits?.cpu, undefined);
  assert.equal(pod.containers[0]!.securityContext?.readOnlyRootFilesystem, true);
});

Deno.test("displayTarget names the Secret instead of the key", () => {
  assert.match(displayTarget(undefined, "r1"), /app_key=<secret countly\/app-key>/);
  assert.equal(displayTarget("http://x:1/", "r1"), "http://x:1/");
});
