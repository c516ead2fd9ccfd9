import assert from "node:assert/strict";
import { hasReadyEndpoint, readiness } from "./readiness.ts";

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

Deno.test("readiness: an HPA is ready once its controller is able to scale", () => {
  const h = (conditions: object[]) =>
    readiness(
      {
        kind: "HorizontalPodAutoscaler",
        metadata: meta(1),
        status: { observedGeneration: 1, conditions },
      } as never,
    );
  assert.equal(h([]).ready, false);
  assert.equal(h([{ type: "AbleToScale", status: "True" }]).ready, true);
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
});

Deno.test("readiness: Services need a ready endpoint", () => {
  assert.equal(hasReadyEndpoint([]), false);
  assert.equal(
    hasReadyEndpoint([{ endpoints: [{ conditions: { ready: false } }] } as never]),
    false,
  );
  assert.equal(hasReadyEndpoint([{ endpoints: [{ conditions: { ready: true } }] } as never]), true);
});
