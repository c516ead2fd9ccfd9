// deno-lint-ignore-file no-explicit-any
import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { CATALOG } from "../images/catalog.ts";
import { COMPONENTS } from "./components.ts";
import { renderStack, toYaml } from "./render.ts";
import { resolveValues } from "./values.ts";

const SECRETS = { grafanaAdminPassword: "golden-password", countlyAppKey: "golden-app-key" };
const GOLDEN = new URL("../../testdata/golden/stack.yaml", import.meta.url);
/** What a node that cannot get MongoDB, Countly or Grafana runs: the rest, and the bench target. */
const GOLDEN_OFFLINE = new URL("../../testdata/golden/stack-offline.yaml", import.meta.url);
const OFFLINE = [
  "mongo.enabled=false",
  "countly.enabled=false",
  "grafana.enabled=false",
  "benchTarget.enabled=true",
];

Deno.test("render: default values match the golden manifests (UPDATE_GOLDEN=1 rewrites them)", async () => {
  const text = toYaml(await renderStack(await resolveValues([], []), SECRETS));
  if (Deno.env.get("UPDATE_GOLDEN")) await Deno.writeTextFile(GOLDEN, text);
  assert.equal(text, await Deno.readTextFile(GOLDEN));
});

Deno.test("render: the offline shape (MongoDB, Countly, Grafana off; bench target on) matches its golden file", async () => {
  const text = toYaml(await renderStack(await resolveValues([], OFFLINE), SECRETS));
  if (Deno.env.get("UPDATE_GOLDEN")) await Deno.writeTextFile(GOLDEN_OFFLINE, text);
  assert.equal(text, await Deno.readTextFile(GOLDEN_OFFLINE));
});

const componentsOf = (objects: { metadata: { labels: Record<string, string> } }[]) =>
  new Set(objects.map((o) => o.metadata.labels["app.kubernetes.io/component"]));

Deno.test("render: a switched-off component renders nothing; namespaces stay while anything lives in them", async () => {
  const all = await renderStack(await resolveValues([], []), SECRETS);
  const off = await renderStack(await resolveValues([], OFFLINE), SECRETS);
  const offComponents = componentsOf(off);
  for (
    const c of [
      "mongo-config",
      "mongo-shard",
      "mongos",
      "mongo-init",
      "countly-api",
      "countly-dashboard",
      "grafana",
    ]
  ) assert.ok(!offComponents.has(c), c);
  assert.ok(offComponents.has("bench-target") && offComponents.has("boinc"));
  // the app namespace now comes with the first component still in it (BOINC)
  const ns = off.filter((o) => o.kind === "Namespace");
  assert.deepEqual(
    ns.map((o) => [o.metadata.name, o.metadata.labels["app.kubernetes.io/component"]]),
    [["monitoring", "prometheus"], ["cncfdemo", "boinc"]],
  );
  assert.deepEqual(
    all.filter((o) => o.kind === "Namespace").map((o) => [
      o.metadata.name,
      o.metadata.labels["app.kubernetes.io/component"],
    ]),
    [["monitoring", "prometheus"], ["cncfdemo", "mongo-config"]],
  );
  // no PriorityClass for Countly and MongoDB, no autoscaler (its target is gone with it)
  assert.ok(!off.some((o) => o.metadata.name === "cncfdemo-high"));
  assert.ok(!off.some((o) => o.kind === "HorizontalPodAutoscaler"));
  // nothing left in a namespace: the namespace goes too
  const appless = await renderStack(
    await resolveValues([], [...OFFLINE, "boinc.enabled=false", "benchTarget.enabled=false"]),
    SECRETS,
  );
  assert.deepEqual(appless.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name), [
    "monitoring",
  ]);
  assert.ok(!appless.some((o) => o.metadata.namespace === "cncfdemo"));
  // one namespace for everything: rendered once
  const one = await renderStack(await resolveValues([], ["monitoringNamespace=cncfdemo"]), SECRETS);
  assert.equal(one.filter((o) => o.kind === "Namespace").length, 1);
});

Deno.test("render: Prometheus scrapes only what is on; Grafana's dashboards stay", async () => {
  const config = async (sets: string[]) => {
    const objects = await renderStack(await resolveValues([], sets), SECRETS);
    return (objects.find((o) => o.metadata.name === "prometheus-config") as any)
      .data["prometheus.yml"] as string;
  };
  const on = await config([]);
  assert.match(on, /job_name: pushgateway/);
  assert.match(on, /job_name: node-exporter/);
  const off = await config(["pushgateway.enabled=false", "nodeExporter.enabled=false"]);
  assert.doesNotMatch(off, /job_name: pushgateway/);
  assert.doesNotMatch(off, /job_name: node-exporter/);
  assert.match(off, /job_name: kubelet-cadvisor/);
  const grafana = await renderStack(await resolveValues([], OFFLINE.slice(0, 2)), SECRETS);
  const dashboards = grafana.find((o) => o.metadata.name === "grafana-dashboards") as any;
  assert.deepEqual(Object.keys(dashboards.data).sort(), [
    "boinc.json",
    "cluster.json",
    "countly.json",
  ]);
});

Deno.test("render: every container (init containers too) uses IfNotPresent and an image from the catalog", async () => {
  const objects = await renderStack(
    await resolveValues([], ["benchTarget.enabled=true"]),
    SECRETS,
  );
  const refs = new Set<string>(Object.values(CATALOG).map((c) => c.ref));
  let n = 0;
  for (const o of objects as any[]) {
    const pod = o.spec?.template?.spec;
    if (!pod) continue;
    for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
      n++;
      assert.equal(c.imagePullPolicy, "IfNotPresent", `${o.metadata.name}/${c.name}`);
      assert.ok(refs.has(c.image), `${o.metadata.name}/${c.name}: ${c.image}`);
    }
  }
  assert.ok(n >= 14, `${n} containers`);
  const boinc = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "boinc") as any;
  assert.equal(boinc.spec.template.spec.containers[0].image, "ghcr.io/cncfdemo/boinc:0.1.0");
});

Deno.test("render: the bench target is a locked-down static server behind port 80", async () => {
  const objects = await renderStack(
    await resolveValues([], [
      "benchTarget.enabled=true",
      "benchTarget.replicas=3",
      "benchTarget.cpuRequest=200m",
      "benchTarget.memoryLimit=256Mi",
    ]),
    SECRETS,
  );
  const deploy = objects.find((o) =>
    o.kind === "Deployment" && o.metadata.name === "bench-target"
  ) as any;
  const svc = objects.find((o) =>
    o.kind === "Service" && o.metadata.name === "bench-target"
  ) as any;
  assert.equal(deploy.metadata.namespace, "cncfdemo");
  assert.equal(deploy.metadata.labels["app.kubernetes.io/component"], "bench-target");
  assert.equal(deploy.spec.replicas, 3);
  const pod = deploy.spec.template.spec;
  const c = pod.containers[0];
  assert.equal(c.image, "ghcr.io/cncfdemo/bench-target:0.1.0");
  assert.deepEqual(c.ports, [{ name: "http", containerPort: 8080 }]);
  assert.deepEqual(c.readinessProbe.httpGet, { path: "/", port: "http" });
  assert.deepEqual(c.resources, {
    requests: { cpu: "200m", memory: "32Mi" },
    limits: { cpu: "1", memory: "256Mi" },
  });
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.deepEqual(pod.securityContext.seccompProfile, { type: "RuntimeDefault" });
  assert.deepEqual(c.securityContext, {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
  });
  assert.deepEqual(c.volumeMounts, [{ name: "tmp", mountPath: "/tmp" }]);
  assert.deepEqual(pod.volumes[0].name, "tmp");
  assert.ok(pod.volumes[0].emptyDir);
  assert.deepEqual(svc.spec.ports, [{ name: "http", port: 80, targetPort: "http" }]);
  assert.deepEqual(svc.spec.selector, deploy.spec.selector.matchLabels);
  // off by default
  const byDefault = await renderStack(await resolveValues([], []), SECRETS);
  assert.ok(!byDefault.some((o) => o.metadata.name === "bench-target"));
});

Deno.test("render: every object carries the three labels, pod templates too", async () => {
  const objects = await renderStack(
    await resolveValues([], ["benchTarget.enabled=true"]),
    SECRETS,
  );
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
