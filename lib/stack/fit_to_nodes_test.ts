import assert from "node:assert/strict";
import type { V1Node } from "@kubernetes/client-node";
import { CATALOG } from "../images/catalog.ts";
import { fitToNodes } from "./fit_to_nodes.ts";
import { isEnabled } from "./switches.ts";
import { resolveValues } from "./values.ts";

/** One offline node holding the catalog images that bake can build here. */
function offlineNode(except: string[] = []): V1Node {
  const built = Object.values(CATALOG).filter((i) => "recipe" in i && !except.includes(i.name));
  return {
    metadata: { name: "local", annotations: { "cncfdemo.io/images": "offline" } },
    status: { images: built.map((i) => ({ names: [i.ref], sizeBytes: 1 })) },
  };
}

Deno.test("fitToNodes: an offline node switches off what it cannot run and benchmarks the bench target", async () => {
  const values = await resolveValues([], []);
  const fit = await fitToNodes(values, [offlineNode()], { bench: true });
  assert.deepEqual(fit.notes, [
    "grafana: off — docker.io/grafana/grafana:12.1.1 is not on the node and the cluster is offline",
    "mongo-config, mongo-shard, mongos, mongo-init: off — docker.io/library/mongo:8.0.12 is not on the node and the cluster is offline",
    "countly-api, countly-dashboard: off — docker.io/library/mongo:8.0.12, docker.io/countly/api:25.03 and docker.io/countly/frontend:25.03 are not on the node and the cluster is offline",
    "bench-target: on — Countly is off: the benchmark loads http://bench-target.cncfdemo/",
  ]);
  assert.equal(fit.benchUrl, "http://bench-target.cncfdemo/");
  assert.equal(fit.benchSkip, undefined);
  assert.equal(values.mongo.enabled, false);
  assert.equal(values.countly.enabled, false);
  assert.equal(values.grafana.enabled, false);
  assert.equal(values.benchTarget.enabled, true);
  assert.ok(isEnabled(values, "prometheus") && isEnabled(values, "boinc"));
  // what is left is consistent: the values check accepts it
  await resolveValues([], [
    "mongo.enabled=false",
    "countly.enabled=false",
    "grafana.enabled=false",
  ]);
});

Deno.test("fitToNodes: a cluster that pulls changes nothing; without the bench nothing is switched on", async () => {
  const values = await resolveValues([], []);
  const pulls: V1Node = { metadata: { name: "kind" }, status: { images: [] } };
  assert.deepEqual(await fitToNodes(values, [pulls], { bench: true }), { notes: [] });
  assert.deepEqual(values, await resolveValues([], []));
  const offline = await resolveValues([], []);
  const fit = await fitToNodes(offline, [offlineNode()], { bench: false });
  assert.equal(fit.notes.length, 3);
  assert.equal(offline.benchTarget.enabled, false);
  assert.equal(fit.benchUrl, undefined);
});

Deno.test("fitToNodes: says why the benchmark cannot run (no wrk image, no Pushgateway, no target)", async () => {
  const noWrk = await fitToNodes(await resolveValues([], []), [offlineNode(["wrk"])], {
    bench: true,
  });
  assert.equal(
    noWrk.benchSkip,
    "ghcr.io/cncfdemo/wrk:0.1.0 (the load generators) is not on the node and the cluster is offline",
  );
  const noPush = await fitToNodes(await resolveValues([], []), [offlineNode(["pushgateway"])], {
    bench: true,
  });
  assert.ok(noPush.notes.includes(
    "pushgateway: off — quay.io/prometheus/pushgateway:v1.11.1 is not on the node and the cluster is offline",
  ));
  assert.equal(
    noPush.benchSkip,
    "the Pushgateway is off (pushgateway.enabled=false): the generators report through it",
  );
  const noTarget = await fitToNodes(await resolveValues([], []), [offlineNode(["bench-target"])], {
    bench: true,
  });
  assert.equal(
    noTarget.benchSkip,
    "Countly is off and ghcr.io/cncfdemo/bench-target:0.1.0 (the bench target) is not on the node and the cluster is offline",
  );
  // Countly's dashboard alone missing: only the dashboard goes, Countly stays the target
  const node = offlineNode();
  for (
    const ref of [
      "docker.io/library/mongo:8.0.12",
      "docker.io/countly/api:25.03",
      "docker.io/grafana/grafana:12.1.1",
    ]
  ) {
    node.status!.images!.push({ names: [ref], sizeBytes: 1 });
  }
  const values = await resolveValues([], []);
  const dash = await fitToNodes(values, [node], { bench: true });
  assert.deepEqual(dash.notes, [
    "countly-dashboard: off — docker.io/countly/frontend:25.03 is not on the node and the cluster is offline",
  ]);
  assert.equal(dash.benchUrl, undefined);
  assert.ok(isEnabled(values, "countly-api") && !isEnabled(values, "countly-dashboard"));
});
