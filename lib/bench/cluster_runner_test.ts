import assert from "node:assert/strict";
import { CATALOG } from "../images/catalog.ts";
import { displayTarget, jobName, wrkJob } from "./cluster_runner.ts";
import { DEFAULT_WRK_IMAGE } from "./generator_defaults.ts";

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
  assert.equal(pod.containers[0]!.imagePullPolicy, "IfNotPresent");
  assert.equal(pod.containers[0]!.securityContext?.readOnlyRootFilesystem, true);
});

Deno.test("displayTarget names the Secret instead of the key", () => {
  assert.match(displayTarget(undefined, "r1"), /app_key=<secret countly\/app-key>/);
  assert.equal(displayTarget("http://x:1/", "r1"), "http://x:1/");
});

Deno.test("wrkJob: each generator requests a small CPU share (fits a 2-vCPU node), never a limit", () => {
  const byDefault = wrkJob(base).spec!.template.spec!.containers[0]!.resources!;
  assert.equal(byDefault.requests?.cpu, "250m");
  assert.equal(byDefault.limits?.cpu, undefined);
  // threads no longer decide the request: 8 threads still ask for the share given
  const asked = wrkJob({ ...base, threads: 8, generatorCpu: 0.1 }).spec!.template.spec!
    .containers[0]!.resources!;
  assert.equal(asked.requests?.cpu, "100m");
  assert.equal(
    wrkJob({ ...base, generatorCpu: 1 }).spec!.template.spec!.containers[0]!.resources!
      .requests?.cpu,
    "1",
  );
});

Deno.test("the default wrk image is the catalog's", () => {
  assert.equal(DEFAULT_WRK_IMAGE, CATALOG.wrk.ref);
  assert.equal(DEFAULT_WRK_IMAGE, "ghcr.io/cncfdemo/wrk:0.1.0");
});
