import assert from "node:assert/strict";
import { renderStack } from "./render.ts";
import { scaleTargets } from "./rollout.ts";
import { resolveValues } from "./values.ts";

const SECRETS = { grafanaAdminPassword: "p", countlyAppKey: "k" };

Deno.test("rollout: every autoscaler's target is rendered, or nothing is applied", async () => {
  const objects = await renderStack(await resolveValues([], []), SECRETS);
  assert.deepEqual(
    scaleTargets(objects).map((t) => `${t.kind} ${t.metadata.namespace}/${t.metadata.name}`),
    ["Deployment cncfdemo/countly-api"],
  );
  const hpa = objects.find((o) => o.kind === "HorizontalPodAutoscaler")!;
  const typo = structuredClone(hpa) as typeof hpa & { spec: { scaleTargetRef: { name: string } } };
  typo.spec.scaleTargetRef.name = "countly-apj";
  assert.throws(
    () => scaleTargets([...objects.filter((o) => o !== hpa), typo]),
    /^CncfdemoError: Cannot apply HorizontalPodAutoscaler cncfdemo\/countly-api: it scales Deployment cncfdemo\/countly-apj, which the stack does not render$/,
  );
});

Deno.test("rollout: with components switched off, every rendered autoscaler's target is still rendered", async () => {
  for (
    const sets of [
      ["countly.dashboard.enabled=false"],
      ["mongo.enabled=false", "countly.enabled=false"],
      ["grafana.enabled=false", "benchTarget.enabled=true", "boinc.enabled=false"],
      ["prometheus.enabled=false", "grafana.enabled=false", "nodeExporter.enabled=false"],
    ]
  ) {
    const objects = await renderStack(await resolveValues([], sets), SECRETS);
    const hpas = objects.filter((o) => o.kind === "HorizontalPodAutoscaler").length;
    assert.equal(scaleTargets(objects).length, hpas, sets.join(" "));
  }
});
