import assert from "node:assert/strict";
import {
  hasReadyEndpoint,
  imagePullProblems,
  podsOf,
  readiness,
  shortenKubeletMessage,
  workloadImagePullProblems,
} from "./readiness.ts";

const meta = (generation = 2) => ({ name: "x", generation });

Deno.test("readiness: Deployment waits for the controller, updated and available replicas, old pods gone", () => {
  const d = (status: object, spec: object = { replicas: 3 }) =>
    readiness({ kind: "Deployment", metadata: meta(), spec, status } as never);
  assert.deepEqual(
    d({ observedGeneration: 1, availableReplicas: 3, updatedReplicas: 3, replicas: 3 }),
    {
      ready: false,
      status: "waiting for the controller",
    },
  );
  assert.equal(
    d({ observedGeneration: 2, availableReplicas: 2, updatedReplicas: 3, replicas: 3 }).ready,
    false,
  );
  assert.equal(
    d({ observedGeneration: 2, availableReplicas: 3, updatedReplicas: 3, replicas: 4 }).ready,
    false,
  );
  assert.deepEqual(
    d({ observedGeneration: 2, availableReplicas: 3, updatedReplicas: 3, replicas: 3 }),
    {
      ready: true,
      status: "3/3 available",
    },
  );
  const stalled = d({
    observedGeneration: 2,
    conditions: [{
      type: "Progressing",
      status: "False",
      reason: "ProgressDeadlineExceeded",
      message: "too slow",
    }],
  });
  assert.equal(stalled.failed, "rollout stalled: too slow");
});

Deno.test("readiness: StatefulSet needs ready, updated replicas and one revision", () => {
  const s = (status: object) =>
    readiness({ kind: "StatefulSet", metadata: meta(), spec: { replicas: 3 }, status } as never);
  const base = { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 3 };
  assert.equal(s({ ...base, currentRevision: "a", updateRevision: "a" }).ready, true);
  assert.equal(s({ ...base, currentRevision: "a", updateRevision: "b" }).ready, false);
  assert.equal(s({ ...base, readyReplicas: 2 }).status, "2/3 ready");
});

Deno.test("readiness: DaemonSet on every scheduled node", () => {
  const ds = (status: object) =>
    readiness({ kind: "DaemonSet", metadata: meta(), status } as never);
  assert.equal(
    ds({
      observedGeneration: 2,
      desiredNumberScheduled: 3,
      numberReady: 3,
      updatedNumberScheduled: 3,
      numberAvailable: 3,
    }).ready,
    true,
  );
  assert.equal(
    ds({
      observedGeneration: 2,
      desiredNumberScheduled: 3,
      numberReady: 2,
      updatedNumberScheduled: 3,
      numberAvailable: 2,
    }).ready,
    false,
  );
});

Deno.test("readiness: a Job is ready when Complete and fails with its reason", () => {
  const j = (conditions: object[], status: object = {}) =>
    readiness({ kind: "Job", metadata: meta(), status: { ...status, conditions } } as never);
  assert.deepEqual(j([{ type: "Complete", status: "True" }]), { ready: true, status: "complete" });
  assert.deepEqual(j([], { active: 1 }), { ready: false, status: "1 active, 0 failed" });
  assert.equal(
    j([{
      type: "Failed",
      status: "True",
      reason: "BackoffLimitExceeded",
      message: "Job has reached the specified backoff limit",
    }]).failed,
    "BackoffLimitExceeded: Job has reached the specified backoff limit",
  );
});

Deno.test("readiness: an HPA is ready once it can scale and its metrics arrive (ScalingActive)", () => {
  const h = (conditions: object[], extra: object = {}) =>
    readiness(
      {
        kind: "HorizontalPodAutoscaler",
        metadata: meta(1),
        spec: {
          metrics: [{
            type: "Resource",
            resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
          }],
        },
        status: {
          observedGeneration: 1,
          conditions,
          currentReplicas: 2,
          desiredReplicas: 2,
          ...extra,
        },
      } as never,
    );
  const able = { type: "AbleToScale", status: "True", reason: "ReadyForNewScale" };
  assert.equal(h([]).ready, false);
  // able to scale is not enough: without metrics it never scales
  const noMetrics = h([able, {
    type: "ScalingActive",
    status: "False",
    reason: "FailedGetResourceMetric",
    message:
      "the HPA was unable to compute the replica count: failed to get cpu utilization:\n  unable to get metrics for resource cpu: no metrics returned from resource metrics API",
  }]);
  assert.equal(noMetrics.ready, false);
  assert.equal(noMetrics.failed, undefined, "metrics may still come: waited for, not failed");
  // one line naming the condition, its reason and its message (the deadline error shows it)
  assert.equal(
    noMetrics.status,
    "ScalingActive=False (FailedGetResourceMetric): the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API",
  );
  assert.equal(h([able]).status, "ScalingActive not reported yet");
  const active = h([able, { type: "ScalingActive", status: "True", reason: "ValidMetricFound" }], {
    currentMetrics: [{
      type: "Resource",
      resource: { name: "cpu", current: { averageUtilization: 2, averageValue: "1m" } },
    }],
  });
  assert.deepEqual(active, { ready: true, status: "cpu 2%/70%, 2 current, 2 desired replicas" });
  assert.match(
    h([{ type: "AbleToScale", status: "False", reason: "FailedUpdateScale", message: "denied" }])
      .failed!,
    /cannot scale: denied/,
  );
  // a target not created yet is waited for, not a failure
  const missing = h([{
    type: "AbleToScale",
    status: "False",
    reason: "FailedGetScale",
    message: 'deployments/scale.apps "countly-api" not found',
  }]);
  assert.equal(missing.ready, false);
  assert.equal(missing.failed, undefined);
  assert.match(missing.status, /waiting for its target: .*not found/);
  // not seen by the controller yet
  assert.equal(
    readiness({ kind: "HorizontalPodAutoscaler", metadata: meta(2), status: {} } as never).status,
    "waiting for the controller",
  );
});

Deno.test("readiness: Services need a ready endpoint", () => {
  assert.equal(hasReadyEndpoint([]), false);
  assert.equal(
    hasReadyEndpoint([{ endpoints: [{ conditions: { ready: false } }] } as never]),
    false,
  );
  assert.equal(hasReadyEndpoint([{ endpoints: [{ conditions: { ready: true } }] } as never]), true);
});

// deno-lint-ignore no-explicit-any
type Any = any;

const waitingPod = (
  name: string,
  waiting: { reason: string; message?: string } | undefined,
  o: { init?: boolean; labels?: Record<string, string>; deleting?: boolean } = {},
): Any => {
  const status = waiting ? { state: { waiting } } : { state: { running: {} }, ready: true };
  const init = o.init
    ? { initContainers: [{ name: "wait", image: "docker.io/library/mongo:8.0.12" }] }
    : {};
  return {
    kind: "Pod",
    metadata: {
      name,
      namespace: "cncfdemo",
      labels: o.labels ?? { "app.kubernetes.io/name": "grafana" },
      ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    spec: { ...init, containers: [{ name: "main", image: "docker.io/grafana/grafana:12.1.1" }] },
    status: o.init
      ? {
        initContainerStatuses: [{ name: "wait", ...status }],
        containerStatuses: [{ name: "main", state: { waiting: { reason: "PodInitializing" } } }],
      }
      : { containerStatuses: [{ name: "main", ...status }] },
  };
};

Deno.test("imagePullProblems: every reason that means the image cannot be had, init containers too", () => {
  for (
    const reason of ["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"]
  ) {
    const [p, ...rest] = imagePullProblems([waitingPod("a", { reason, message: "m" })]);
    assert.deepEqual(rest, []);
    assert.deepEqual(p, {
      namespace: "cncfdemo",
      pod: "a",
      container: "main",
      init: false,
      image: "docker.io/grafana/grafana:12.1.1",
      reason,
      message: "m",
      labels: { "app.kubernetes.io/name": "grafana" },
    });
  }
  const init = imagePullProblems([waitingPod("b", { reason: "ImagePullBackOff" }, { init: true })]);
  assert.deepEqual(init.map((p) => [p.container, p.init, p.image, p.message]), [
    ["wait", true, "docker.io/library/mongo:8.0.12", ""],
  ]);
});

Deno.test("imagePullProblems: waiting for other reasons, running, recovered or deleted pods are no problem", () => {
  for (const reason of ["ContainerCreating", "PodInitializing", "CrashLoopBackOff"]) {
    assert.deepEqual(imagePullProblems([waitingPod("a", { reason })]), []);
  }
  // the same pod, first backing off, then pulled and running
  const backingOff = waitingPod("a", { reason: "ImagePullBackOff", message: "Back-off" });
  assert.equal(imagePullProblems([backingOff]).length, 1);
  assert.deepEqual(imagePullProblems([waitingPod("a", undefined)]), []);
  assert.deepEqual(
    imagePullProblems([waitingPod("a", { reason: "ErrImagePull" }, { deleting: true })]),
    [],
  );
  assert.deepEqual(imagePullProblems([{ kind: "Pod", metadata: { name: "new" } }]), []);
});

Deno.test("podsOf: a workload's pods by its selector; a rendered Job's by the job-name label", () => {
  const pods = [
    waitingPod("g", undefined, { labels: { "app.kubernetes.io/name": "grafana" } }),
    waitingPod("p", undefined, { labels: { "app.kubernetes.io/name": "prometheus" } }),
    waitingPod("j", undefined, { labels: { "batch.kubernetes.io/job-name": "mongo-init-cfg" } }),
  ];
  const deploy = (selector: object): Any => ({
    kind: "Deployment",
    metadata: { name: "grafana", namespace: "cncfdemo" },
    spec: { selector },
  });
  const names = (ps: Any[]) => ps.map((p) => p.metadata.name);
  assert.deepEqual(
    names(podsOf(deploy({ matchLabels: { "app.kubernetes.io/name": "grafana" } }), pods)),
    ["g"],
  );
  assert.deepEqual(
    names(podsOf(
      deploy({
        matchExpressions: [{
          key: "app.kubernetes.io/name",
          operator: "In",
          values: ["grafana", "prometheus"],
        }],
      }),
      pods,
    )),
    ["g", "p"],
  );
  assert.deepEqual(
    names(
      podsOf(
        deploy({ matchExpressions: [{ key: "app.kubernetes.io/name", operator: "DoesNotExist" }] }),
        pods,
      ),
    ),
    ["j"],
  );
  assert.deepEqual(
    names(
      podsOf(
        deploy({
          matchExpressions: [{
            key: "app.kubernetes.io/name",
            operator: "NotIn",
            values: ["grafana"],
          }],
        }),
        pods,
      ),
    ),
    ["p", "j"],
  );
  const job: Any = {
    kind: "Job",
    metadata: { name: "mongo-init-cfg", namespace: "cncfdemo" },
    spec: {},
  };
  assert.deepEqual(names(podsOf(job, pods)), ["j"]);
  // another namespace: not its pods
  const elsewhere = { ...deploy({ matchLabels: { "app.kubernetes.io/name": "grafana" } }) };
  elsewhere.metadata = { name: "grafana", namespace: "monitoring" };
  assert.deepEqual(podsOf(elsewhere, pods), []);
  // not a pod owner
  assert.deepEqual(podsOf({ kind: "Service", metadata: { name: "x" } } as Any, pods), []);
});

Deno.test("workloadImagePullProblems: only images the workload names now (an old revision's pod is going)", () => {
  const deploy = (image: string): Any => ({
    kind: "Deployment",
    metadata: { name: "grafana", namespace: "cncfdemo" },
    spec: {
      selector: { matchLabels: { "app.kubernetes.io/name": "grafana" } },
      template: { spec: { containers: [{ name: "main", image }] } },
    },
  });
  const pod = waitingPod("g", { reason: "ErrImagePull", message: "not found" });
  assert.equal(
    workloadImagePullProblems([deploy("docker.io/grafana/grafana:12.1.1")], [pod]).length,
    1,
  );
  assert.deepEqual(
    workloadImagePullProblems([deploy("docker.io/grafana/grafana:12.2.0")], [pod]),
    [],
  );
});

Deno.test("shortenKubeletMessage: no gRPC wrapping, one line, first and last causes when long", () => {
  assert.equal(
    shortenKubeletMessage('rpc error: code = NotFound desc = failed to pull "x":\n  not found'),
    'failed to pull "x": not found',
  );
  const long =
    'rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/grafana/grafana:12.1.1": failed to resolve reference "docker.io/grafana/grafana:12.1.1": failed to do request: Head "https://registry-1.docker.io/v2/grafana/grafana/manifests/12.1.1": dial tcp: lookup registry-1.docker.io on 10.0.2.3:53: no such host';
  const short = shortenKubeletMessage(long);
  assert.ok(short.length <= 200, short);
  assert.equal(
    short,
    'failed to pull and unpack image "docker.io/grafana/grafana:12.1.1": … lookup registry-1.docker.io on 10.0.2.3:53: no such host',
  );
  assert.ok(shortenKubeletMessage("x".repeat(500)).endsWith("…"));
});
