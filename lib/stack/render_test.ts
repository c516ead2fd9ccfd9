// deno-lint-ignore-file no-explicit-any
import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { COMPONENTS } from "./components.ts";
import { renderStack } from "./render.ts";
import { resolveValues } from "./values.ts";
import { toYaml } from "../../tasks/render.ts";

const SECRETS = { grafanaAdminPassword: "golden-password", countlyAppKey: "golden-app-key" };
const GOLDEN = new URL("../../testdata/golden/stack.yaml", import.meta.url);

Deno.test("render: default values match the golden manifests (UPDATE_GOLDEN=1 rewrites them)", async () => {
  const text = toYaml(await renderStack(await resolveValues([], []), SECRETS));
  if (Deno.env.get("UPDATE_GOLDEN")) await Deno.writeTextFile(GOLDEN, text);
  assert.equal(text, await Deno.readTextFile(GOLDEN));
});

Deno.test("render: every object carries the three labels, pod templates too", async () => {
  const objects = await renderStack(await resolveValues([], []), SECRETS);
  assert.ok(objects.length > 40, `${objects.length} objects`);
  const components = new Set<string>();
  for (const o of objects) {
    const l = o.metadata.labels;
    assert.equal(l["app.kubernetes.io/part-of"], "cncfdemo", o.metadata.name);
    assert.equal(l["app.kubernetes.io/managed-by"], "cncfdemo", o.metadata.name);
    assert.ok(
      (COMPONENTS as readonly string[]).includes(l["app.kubernetes.io/component"]!),
      o.metadata.name,
    );
    components.add(l["app.kubernetes.io/component"]!);
    const tpl = (o as any).spec?.template;
    if (tpl) {
      assert.equal(
        tpl.metadata.labels["app.kubernetes.io/component"],
        l["app.kubernetes.io/component"],
      );
    }
  }
  assert.deepEqual(
    [...components].sort(),
    [...COMPONENTS].sort(),
    "every component renders something",
  );
});

Deno.test("render: ConfigMaps are autodetected from configmaps/<name>/ folders, .njk files rendered", async () => {
  const objects = await renderStack(await resolveValues([], ["namespace=shop"]), SECRETS);
  const countly = objects.find((o) =>
    o.kind === "ConfigMap" && o.metadata.name === "countly-config"
  );
  const data = (countly as any).data as Record<string, string>;
  assert.deepEqual(Object.keys(data).sort(), ["api.js", "frontend.js"]);
  assert.match(data["api.js"]!, /host: "mongos\.shop\.svc"/);
  assert.equal(countly?.metadata.namespace, "shop");
  const dashboards = objects.find((o) => o.metadata.name === "grafana-dashboards");
  const keys = Object.keys((dashboards as any).data).sort();
  assert.deepEqual(keys, ["boinc.json", "cluster.json", "countly.json"]);
  for (const k of keys) JSON.parse((dashboards as any).data[k]);
});

Deno.test("render: values shape the stack (shards, replicas, storage, BOINC off)", async () => {
  const objects = await renderStack(
    await resolveValues([], [
      "mongo.shards=3",
      "mongo.persistence.enabled=false",
      "boinc.enabled=false",
    ]),
    SECRETS,
  );
  const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
  for (
    const n of [
      "StatefulSet/mongo-rs1",
      "StatefulSet/mongo-rs2",
      "StatefulSet/mongo-rs3",
      "Job/mongo-init-rs3",
    ]
  ) {
    assert.ok(names.includes(n), n);
  }
  assert.ok(!names.some((n) => n.includes("boinc")));
  const sts = objects.find((o) =>
    o.kind === "StatefulSet" && o.metadata.name === "mongo-rs3"
  ) as any;
  assert.equal(sts.spec.volumeClaimTemplates, undefined);
  assert.deepEqual(sts.spec.template.spec.volumes, [{ name: "data", emptyDir: {} }]);
  const shards = objects.find((o) => o.metadata.name === "mongo-add-shards") as any;
  const env = shards.spec.template.spec.containers[0].env;
  assert.equal(env[0].value.split(",").length, 3);
});

Deno.test("render: secrets never appear as fixed values; the app key reaches Jobs through a Secret", async () => {
  const text = toYaml(await renderStack(await resolveValues([], []), SECRETS));
  assert.equal(text.split("golden-password").length - 1, 1, "only in the grafana-admin Secret");
  assert.equal(text.split("golden-app-key").length - 1, 1, "only in the countly Secret");
});

Deno.test("render: a template error names the file and line", async () => {
  const dir = new URL("../../testdata/templates/broken/", import.meta.url).pathname;
  await assert.rejects(
    renderStack(await resolveValues([], []), SECRETS, dir),
    (e) =>
      e instanceof UsageError &&
      /^Cannot render templates\/prometheus\/bad\.yaml\.njk line 4: .*/.test(e.message) &&
      !e.message.includes("\n"),
  );
});
