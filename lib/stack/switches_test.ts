import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { COMPONENTS } from "./components.ts";
import { isEnabled, SWITCHES, switchOf, switchOff, switchOffFlags } from "./switches.ts";
import { resolveValues } from "./values.ts";

async function refused(sets: string[]): Promise<string> {
  try {
    await resolveValues([], sets);
  } catch (err) {
    assert.ok(err instanceof UsageError, String(err));
    assert.ok(!err.message.includes("\n"));
    return err.message;
  }
  assert.fail(`accepted ${sets.join(" ")}`);
}

Deno.test("switches: every component can be switched off; the bench target is off by default", async () => {
  const v = await resolveValues([], []);
  assert.deepEqual(
    COMPONENTS.filter((c) => !isEnabled(v, c)),
    ["bench-target"],
  );
  const covered = new Set(Object.values(SWITCHES).flatMap((s) => s.components));
  assert.deepEqual([...COMPONENTS].filter((c) => !covered.has(c)), []);
  const none = await resolveValues([], Object.values(SWITCHES).map((s) => `${s.key}=false`));
  assert.deepEqual(COMPONENTS.filter((c) => isEnabled(none, c)), []);
  // the dashboard alone, and with Countly
  const noDashboard = await resolveValues([], ["countly.dashboard.enabled=false"]);
  assert.ok(isEnabled(noDashboard, "countly-api") && !isEnabled(noDashboard, "countly-dashboard"));
  const noCountly = await resolveValues([], ["countly.enabled=false", "mongo.enabled=false"]);
  assert.ok(!isEnabled(noCountly, "countly-dashboard"));
  assert.ok(isEnabled(noCountly, "boinc") && isEnabled(noCountly, "prometheus"));
});

Deno.test("switches: contradictions are refused in one line that says what to set", async () => {
  assert.equal(
    await refused(["mongo.enabled=false"]),
    "countly.enabled=true needs mongo.enabled=true: switch Countly off too (--set countly.enabled=false)",
  );
  assert.equal(
    await refused(["countly.enabled=false"]),
    "mongo.enabled=true serves only Countly, which is off (countly.enabled=false): switch MongoDB off too (--set mongo.enabled=false)",
  );
  assert.equal(
    await refused(["prometheus.enabled=false", "nodeExporter.enabled=false"]),
    "grafana.enabled=true needs prometheus.enabled=true: switch Grafana off too (--set grafana.enabled=false)",
  );
  assert.equal(
    await refused(["prometheus.enabled=false", "grafana.enabled=false"]),
    "nodeExporter.enabled=true serves only Prometheus, which is off (prometheus.enabled=false): switch node-exporter off too (--set nodeExporter.enabled=false)",
  );
  // the dashboard on by default does not contradict Countly off
  await resolveValues([], ["countly.enabled=false", "mongo.enabled=false"]);
  // Prometheus alone, the Pushgateway alone, the bench target alone are fine
  await resolveValues([], [
    "grafana.enabled=false",
    "nodeExporter.enabled=false",
    "pushgateway.enabled=false",
  ]);
  await resolveValues([], [
    "prometheus.enabled=false",
    "grafana.enabled=false",
    "nodeExporter.enabled=false",
    "mongo.enabled=false",
    "countly.enabled=false",
    "boinc.enabled=false",
    "benchTarget.enabled=true",
  ]);
});

Deno.test("switches: switchOff turns off what can no longer run or serve, and says why", async () => {
  const v = await resolveValues([], []);
  const off = switchOff(v, [{ id: "mongo", why: "no image" }, { id: "grafana", why: "no image" }]);
  assert.deepEqual(off.map((o) => [o.key, o.why]), [
    ["mongo.enabled", "no image"],
    ["grafana.enabled", "no image"],
    ["countly.enabled", "needs MongoDB, which is off"],
  ]);
  assert.equal(v.countly.enabled, false);
  assert.equal(v.mongo.enabled, false);
  // consistent: resolveValues' check accepts it
  await resolveValues([], off.map((o) => `${o.key}=false`));
  // Countly's API missing takes MongoDB with it; its dashboard alone does not
  const api = await resolveValues([], []);
  assert.deepEqual(
    switchOff(api, [{ id: switchOf("countly-api"), why: "x" }]).map((o) => o.key),
    ["countly.enabled", "mongo.enabled"],
  );
  const dash = await resolveValues([], []);
  assert.deepEqual(
    switchOff(dash, [{ id: switchOf("countly-dashboard"), why: "x" }]).map((o) => o.key),
    ["countly.dashboard.enabled"],
  );
  // already off: not reported again
  const again = switchOff(v, [{ id: "mongo", why: "no image" }]);
  assert.deepEqual(again, []);
});

Deno.test("switches: the flags that switch a component off with its dependants", () => {
  assert.equal(switchOffFlags("grafana"), "--set grafana.enabled=false");
  assert.equal(
    switchOffFlags("mongo-init"),
    "--set mongo.enabled=false --set countly.enabled=false",
  );
  assert.equal(
    switchOffFlags("prometheus"),
    "--set prometheus.enabled=false --set grafana.enabled=false --set nodeExporter.enabled=false",
  );
  assert.equal(switchOffFlags("countly-dashboard"), "--set countly.dashboard.enabled=false");
  assert.equal(switchOffFlags("bench-target"), "--set benchTarget.enabled=false");
});
