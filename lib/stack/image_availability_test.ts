import assert from "node:assert/strict";
import type { V1Node } from "@kubernetes/client-node";
import { imagePullProblems } from "../kube/readiness.ts";
import {
  bakeBuilds,
  componentImages,
  imagePullFailure,
  missingImagesOn,
  normalizeImageRef,
  whyUnavailable,
} from "./image_availability.ts";
import { renderStack } from "./render.ts";
import { resolveValues } from "./values.ts";

const SECRETS = { grafanaAdminPassword: "p", countlyAppKey: "k" };

function node(name: string, images: string[][], mode?: "offline" | "pull"): V1Node {
  return {
    metadata: { name, annotations: mode ? { "cncfdemo.io/images": mode } : {} },
    status: { images: images.map((names) => ({ names, sizeBytes: 1 })) },
  };
}

Deno.test("normalizeImageRef: Docker Hub's short forms, registries with ports, digests", () => {
  const cases: [string, string][] = [
    ["mongo:8.0.12", "docker.io/library/mongo:8.0.12"],
    ["docker.io/library/mongo:8.0.12", "docker.io/library/mongo:8.0.12"],
    ["library/mongo:8.0.12", "docker.io/library/mongo:8.0.12"],
    ["index.docker.io/library/mongo:8.0.12", "docker.io/library/mongo:8.0.12"],
    ["grafana/grafana", "docker.io/grafana/grafana:latest"],
    ["quay.io/prometheus/prometheus:v3.5.0", "quay.io/prometheus/prometheus:v3.5.0"],
    ["localhost:5000/x", "localhost:5000/x:latest"],
    ["localhost/x:1", "localhost/x:1"],
    ["registry.k8s.io/pause@sha256:abc", "registry.k8s.io/pause@sha256:abc"],
    ["mongo@sha256:abc", "docker.io/library/mongo@sha256:abc"],
  ];
  for (const [ref, want] of cases) assert.equal(normalizeImageRef(ref), want, ref);
});

Deno.test("whyUnavailable: offline nodes run only what they have; other clusters pull", () => {
  const img = "docker.io/library/mongo:8.0.12";
  const has = node(
    "n1",
    [["docker.io/library/mongo:8.0.12", "docker.io/library/mongo@sha256:1"]],
    "offline",
  );
  const short = node("n1", [["mongo:8.0.12"]], "offline");
  const lacks = node("n1", [["docker.io/grafana/grafana:12.1.1"]], "offline");
  assert.equal(whyUnavailable([has], img), undefined);
  assert.equal(whyUnavailable([short], img), undefined);
  assert.equal(whyUnavailable([lacks], img), "not on the node and the cluster is offline");
  // not offline: assumed to pull
  assert.equal(whyUnavailable([node("n1", [], "pull")], img), undefined);
  assert.equal(whyUnavailable([node("n1", [])], img), undefined);
  // several offline nodes: a pod may land on any of them
  assert.equal(
    whyUnavailable([has, node("n2", [], "offline"), node("n3", [], "offline")], img),
    "not on nodes n2, n3 and the cluster is offline",
  );
});

Deno.test("missingImagesOn: the enabled components whose images an offline node lacks", async () => {
  const objects = await renderStack(await resolveValues([], []), SECRETS);
  const images = componentImages(objects);
  assert.deepEqual(images.get("countly-api"), [
    "docker.io/library/mongo:8.0.12",
    "docker.io/countly/api:25.03",
  ]);
  const offline = node("local", [
    ["quay.io/prometheus/prometheus:v3.5.0"],
    ["quay.io/prometheus/pushgateway:v1.11.1"],
    ["quay.io/prometheus/node-exporter:v1.9.1"],
    ["ghcr.io/cncfdemo/boinc:0.1.0"],
  ], "offline");
  const missing = missingImagesOn([offline], objects);
  assert.deepEqual(
    missing.map((m) => `${m.component} ${m.image}`),
    [
      "grafana docker.io/grafana/grafana:12.1.1",
      "mongo-config docker.io/library/mongo:8.0.12",
      "mongo-shard docker.io/library/mongo:8.0.12",
      "mongos docker.io/library/mongo:8.0.12",
      "mongo-init docker.io/library/mongo:8.0.12",
      "countly-api docker.io/library/mongo:8.0.12",
      "countly-api docker.io/countly/api:25.03",
      "countly-dashboard docker.io/library/mongo:8.0.12",
      "countly-dashboard docker.io/countly/frontend:25.03",
      // Countly's router (part of the dashboard) runs the bench target's nginx
      "countly-dashboard ghcr.io/cncfdemo/bench-target:0.1.0",
    ],
  );
  assert.ok(missing.every((m) => m.reason === "not on the node and the cluster is offline"));
  // switched-off components are not asked about; an online cluster misses nothing
  const fewer = await renderStack(
    await resolveValues([], [
      "mongo.enabled=false",
      "countly.enabled=false",
      "grafana.enabled=false",
      "benchTarget.enabled=true",
    ]),
    SECRETS,
  );
  assert.deepEqual(
    missingImagesOn([offline], fewer).map((m) => `${m.component} ${m.image}`),
    ["bench-target ghcr.io/cncfdemo/bench-target:0.1.0"],
  );
  assert.deepEqual(missingImagesOn([node("kind", [])], objects), []);
});

Deno.test("imagePullFailure: one line naming the image, the component and both ways out", () => {
  const pod = (image: string, component: string, reason: string, message: string) => ({
    kind: "Pod",
    metadata: {
      name: `${component}-1`,
      namespace: "monitoring",
      labels: { "app.kubernetes.io/component": component },
    },
    spec: { containers: [{ name: "c", image }] },
    status: { containerStatuses: [{ name: "c", state: { waiting: { reason, message } } }] },
  });
  const [grafana] = imagePullProblems([
    pod(
      "docker.io/grafana/grafana:12.1.1",
      "grafana",
      "ImagePullBackOff",
      'Back-off pulling image "docker.io/grafana/grafana:12.1.1"',
    ),
  ]);
  assert.equal(
    imagePullFailure(grafana!),
    'Cannot pull docker.io/grafana/grafana:12.1.1 for component grafana (ImagePullBackOff: Back-off pulling image "docker.io/grafana/grafana:12.1.1"): make it available (from a registry the node can reach, or imported onto the node) or switch the component off (--set grafana.enabled=false)',
  );
  const [prom] = imagePullProblems([
    pod("quay.io/prometheus/prometheus:v3.5.0", "prometheus", "ErrImageNeverPull", ""),
  ]);
  assert.equal(
    imagePullFailure(prom!),
    "Cannot pull quay.io/prometheus/prometheus:v3.5.0 for component prometheus (ErrImageNeverPull): make it available (deno task bake --target images) or switch the component off (--set prometheus.enabled=false --set grafana.enabled=false --set nodeExporter.enabled=false)",
  );
  const [other] = imagePullProblems([pod("x/y:1", "something-else", "InvalidImageName", "bad")]);
  assert.equal(
    imagePullFailure(other!),
    "Cannot pull x/y:1 for pod monitoring/something-else-1 (InvalidImageName: bad): make it available (from a registry the node can reach, or imported onto the node)",
  );
  assert.ok(bakeBuilds("ghcr.io/cncfdemo/bench-target:0.1.0"));
  assert.ok(!bakeBuilds("docker.io/library/mongo:8.0.12"));
});
