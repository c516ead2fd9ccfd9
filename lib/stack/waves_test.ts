import assert from "node:assert/strict";
import { renderStack } from "./render.ts";
import { resolveValues } from "./values.ts";
import { appliedIn, WAVE_ORDER, waveOf } from "./waves.ts";

Deno.test("waves: the stack's dependency order", async () => {
  const objects = await renderStack(await resolveValues([], ["benchTarget.enabled=true"]), {
    grafanaAdminPassword: "p",
    countlyAppKey: "k",
  });
  const wave = (kind: string, name: string) =>
    waveOf(objects.find((o) => o.kind === kind && o.metadata.name === name)!);
  const order = (w: string) => WAVE_ORDER.indexOf(w as never);
  assert.equal(wave("Namespace", "cncfdemo"), "foundation");
  assert.equal(wave("PriorityClass", "cncfdemo-background"), "foundation");
  assert.equal(wave("ClusterRole", "cncfdemo-prometheus"), "config");
  assert.equal(wave("Secret", "countly"), "config");
  assert.equal(wave("Service", "mongos"), "config");
  // MongoDB → init Jobs → mongos → shards → Countly → autoscaler
  const chain = [
    wave("StatefulSet", "mongo-config"),
    wave("Job", "mongo-init-rs1"),
    wave("Deployment", "mongos"),
    wave("Job", "mongo-add-shards"),
    wave("Deployment", "countly-api"),
    wave("HorizontalPodAutoscaler", "countly-api"),
  ];
  assert.deepEqual(chain, ["mongo", "mongo-init", "mongos", "mongo-shards", "apps", "autoscalers"]);
  for (let i = 1; i < chain.length; i++) assert.ok(order(chain[i]!) > order(chain[i - 1]!));
  assert.equal(wave("Deployment", "boinc"), "apps");
  assert.equal(wave("Deployment", "bench-target"), "apps");
  assert.equal(wave("Service", "bench-target"), "config");
  assert.equal(wave("Deployment", "prometheus"), "monitoring");
  assert.equal(wave("DaemonSet", "node-exporter"), "monitoring");
  // every object sorts after the namespaces and the config it needs
  for (const o of objects) assert.ok(order(waveOf(o)) >= 0, o.metadata.name);
});

Deno.test("waves: autoscalers are applied with the configuration, and only there", () => {
  assert.deepEqual(appliedIn("config"), ["config", "autoscalers"]);
  assert.deepEqual(appliedIn("autoscalers"), []);
  assert.deepEqual(appliedIn("apps"), ["apps"]);
  // every wave is applied in exactly one step
  const applied = WAVE_ORDER.flatMap(appliedIn);
  assert.deepEqual([...applied].sort(), [...WAVE_ORDER].sort());
});
