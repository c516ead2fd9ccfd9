// deno-lint-ignore-file no-explicit-any
/**
 * What the stack's workloads need to run for real, read from the rendered manifests (MongoDB,
 * Countly and the AWS-only parts cannot run on this machine): Countly's start-up budget, heap caps
 * and one browser origin; MongoDB's init container and WiredTiger cache; BOINC as a long-running,
 * non-root client sized to its pod.
 */
import assert from "node:assert/strict";
import { parseQuantity } from "../quantity.ts";
import { renderStack } from "./render.ts";
import { resolveValues } from "./values.ts";

const SECRETS = { grafanaAdminPassword: "p", countlyAppKey: "k" };

async function render(sets: string[] = []) {
  const objects = await renderStack(await resolveValues([], sets), SECRETS);
  const get = (kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name) as any;
  return { objects, get };
}

const env = (c: any, name: string) => c.env?.find((e: any) => e.name === name);
const mib = (q: string) => parseQuantity(q)! / 2 ** 20;

/** Upstream's Kubernetes manifests wait up to this long before Countly's first probe. */
const UPSTREAM_STARTUP_S = 400;

Deno.test("Countly: a startupProbe longer than upstream's start-up, then liveness", async () => {
  const { get } = await render();
  for (const [name, path] of [["countly-api", "/o/ping"], ["countly-dashboard", "/ping"]]) {
    const c = get("Deployment", name!).spec.template.spec.containers[0];
    const s = c.startupProbe;
    assert.equal(s.httpGet.path, path, name);
    assert.ok(
      s.periodSeconds * s.failureThreshold > UPSTREAM_STARTUP_S,
      `${name}: ${s.periodSeconds * s.failureThreshold}s`,
    );
    // liveness no longer guesses the start-up with an initial delay: the startupProbe gates it
    assert.equal(c.livenessProbe.initialDelaySeconds, undefined, name);
    assert.equal(c.livenessProbe.httpGet.path, path, name);
  }
});

Deno.test("Countly: fixed API workers and Node.js heaps that fit under the memory limit", async () => {
  for (const sets of [[], ["countly.api.workers=4", "countly.api.memoryLimit=2Gi"]]) {
    const { get } = await render(sets);
    const values = await resolveValues([], sets);
    const api = get("Deployment", "countly-api").spec.template.spec.containers[0];
    const heap = Number(/--max-old-space-size=(\d+)/.exec(env(api, "NODE_OPTIONS").value)![1]);
    // the master and every worker each have a heap of that size
    const processes = values.countly.api.workers + 1;
    assert.ok(heap * processes < mib(api.resources.limits.memory), `${heap} × ${processes}`);
    const config = get("ConfigMap", "countly-config").data["api.js"];
    assert.match(config, new RegExp(`workers: ${values.countly.api.workers},`));
    const dashboard = get("Deployment", "countly-dashboard").spec.template.spec.containers[0];
    const dHeap = Number(
      /--max-old-space-size=(\d+)/.exec(env(dashboard, "NODE_OPTIONS").value)![1],
    );
    assert.ok(dHeap < mib(dashboard.resources.limits.memory));
  }
});

Deno.test("Countly: uploaded files in MongoDB (fileStorage gridfs), for the API and the dashboard", async () => {
  const { get } = await render();
  assert.match(get("ConfigMap", "countly-config").data["api.js"], /^\s*fileStorage: "gridfs",$/m);
  // the dashboard reads its file storage from the API's configuration: it mounts it too
  const mounts = get("Deployment", "countly-dashboard").spec.template.spec.containers[0]
    .volumeMounts;
  assert.ok(mounts.some((m: any) =>
    m.mountPath === "/opt/countly/api/config.js" &&
    m.subPath === "api.js"
  ));
});

Deno.test("Countly: one origin for the browser, /i and /o to the API, the rest to the dashboard", async () => {
  const { get } = await render();
  const svc = get("Service", "countly");
  assert.deepEqual(svc.spec.ports, [{ name: "http", port: 80, targetPort: "http" }]);
  assert.deepEqual(svc.spec.selector, { "app.kubernetes.io/name": "countly-router" });
  const router = get("Deployment", "countly-router");
  const pod = router.spec.template.spec;
  assert.equal(router.metadata.labels["app.kubernetes.io/component"], "countly-dashboard");
  assert.equal(pod.containers[0].image, "ghcr.io/cncfdemo/bench-target:0.1.0");
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.containers[0].securityContext.readOnlyRootFilesystem, true);
  const conf: string = get("ConfigMap", "countly-router").data["nginx.conf"];
  assert.match(conf, /server countly-api\.cncfdemo\.svc:3001;/);
  assert.match(conf, /server countly-dashboard\.cncfdemo\.svc:6001;/);
  for (const loc of ["= /i", "^~ /i/", "= /o", "^~ /o/"]) {
    assert.match(
      conf,
      new RegExp(
        `location ${loc.replace(/[\^~/]/g, "\\$&")} \\{\\s*proxy_pass http://countly_api;`,
      ),
    );
  }
  assert.match(conf, /location \/ \{\s*proxy_pass http:\/\/countly_dashboard;/);
  // switched off with the dashboard
  const off = await render(["countly.dashboard.enabled=false"]);
  assert.equal(off.get("Deployment", "countly-router"), undefined);
  assert.equal(off.get("Service", "countly"), undefined);
});

Deno.test("MongoDB: wait-for-mongos has room for mongosh; WiredTiger's cache sized to the container", async () => {
  const { objects, get } = await render();
  for (const name of ["countly-api", "countly-dashboard"]) {
    const init = get("Deployment", name).spec.template.spec.initContainers[0];
    assert.equal(init.name, "wait-for-mongos");
    // mongosh peaks at 110–160 MB
    assert.ok(mib(init.resources.limits.memory) >= 256, name);
    assert.ok(mib(init.resources.requests.memory) >= 160, name);
  }
  const mongods = objects.filter((o) => o.kind === "StatefulSet");
  assert.deepEqual(mongods.map((o) => o.metadata.name), ["mongo-config", "mongo-rs1", "mongo-rs2"]);
  for (const s of mongods as any[]) {
    const c = s.spec.template.spec.containers[0];
    const i = c.args.indexOf("--wiredTigerCacheSizeGB");
    assert.ok(i > 0, s.metadata.name);
    const gb = Number(c.args[i + 1]);
    assert.equal(gb, 0.5, "50% of (2 GiB − 1 GB)");
    assert.ok(gb * 1024 < mib(c.resources.limits.memory) / 2, s.metadata.name);
  }
  const big = await render(["mongo.memoryLimit=8Gi"]);
  const args = big.get("StatefulSet", "mongo-rs1").spec.template.spec.containers[0].args;
  assert.equal(args[args.indexOf("--wiredTigerCacheSizeGB") + 1], "3.5");
});

Deno.test("BOINC: a long-running non-root client as the container's main process, sized to its pod", async () => {
  const { get } = await render(["boinc.accountKey=0123abcdef"]);
  const d = get("Deployment", "boinc");
  const pod = d.spec.template.spec;
  const c = pod.containers[0];
  const script: string = get("ConfigMap", "boinc").data["start.sh"];
  // never exits on its own: a Deployment would restart it as a new host every time
  for (const flag of ["--exit_when_idle", "--exit_after_finish", "--abort_jobs_on_exit"]) {
    assert.ok(!JSON.stringify(c).includes(flag) && !script.includes(flag), flag);
  }
  // the image's boinc user (images/boinc/image.json: 10001:10001) owns its data directory
  const recipe = JSON.parse(
    await Deno.readTextFile(new URL("../../images/boinc/image.json", import.meta.url)),
  );
  assert.equal(recipe.config.User, "10001:10001");
  assert.deepEqual(
    [pod.securityContext.runAsUser, pod.securityContext.runAsGroup, pod.securityContext.fsGroup],
    [10001, 10001, 10001],
  );
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.deepEqual(c.securityContext.capabilities, { drop: ["ALL"] });
  const data = c.volumeMounts.find((m: any) => m.mountPath === "/var/lib/boinc");
  assert.deepEqual(pod.volumes.find((v: any) => v.name === data.name), {
    name: "data",
    emptyDir: {},
  });
  // the shell only prepares, then execs the client (no `&`, no `wait`: SIGTERM reaches boinc)
  assert.deepEqual(c.command, ["sh", "/etc/cncfdemo-boinc/start.sh"]);
  assert.match(script, /\nexec boinc --dir "\$dir"\n$/);
  assert.doesNotMatch(script, /&\s*$|\bwait\b/m);
  assert.ok(pod.terminationGracePeriodSeconds >= 30);
  // <ncpus> from the pod's CPU limit (the downward API rounds up), into cc_config.xml
  assert.deepEqual(env(c, "BOINC_NCPUS").valueFrom.resourceFieldRef, {
    resource: "limits.cpu",
    divisor: "1",
  });
  assert.match(script, /<ncpus>\$\{BOINC_NCPUS:-1\}<\/ncpus>/);
  assert.equal(c.resources.limits.cpu, "1");
  // the key from the Secret as a file, never an environment variable or an argument
  assert.equal(env(c, "BOINC_ACCOUNT_KEY"), undefined);
  assert.ok(!JSON.stringify(d).includes("0123abcdef"));
  assert.equal(get("Secret", "boinc").stringData["account-key"], "0123abcdef");
  assert.equal(env(c, "BOINC_PROJECT_URL").value, "https://einstein.phys.uwm.edu/");
});
