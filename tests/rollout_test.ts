/**
 * The demo stack against a real control plane (simulated nodes): every rendered object accepted
 * with strict field validation, a full rollout that ends ready, a re-run that changes nothing,
 * dry run and diff that change nothing, prune, bad input, teardown --apps.
 */
import assert from "node:assert/strict";
import type { KubernetesObject } from "@kubernetes/client-node";
import { hasReadyEndpoint, readiness } from "../lib/kube/readiness.ts";
import { MANAGED_SELECTOR } from "../lib/stack/components.ts";
import { MANAGED_KINDS, readLiveState } from "../lib/stack/rollout.ts";
import { objectId } from "../lib/stack/render.ts";
import type { Kube } from "../lib/kube/client.ts";
import { sandbox } from "./support/env.ts";
import { freePort } from "./support/servers.ts";
import { withSimCluster } from "./support/sim_cluster.ts";

const SIM = ["--set", "mongo.persistence.enabled=false"];

/**
 * Per managed object: its resourceVersion, unless the only writes since were status updates by
 * controllers (an HPA or Deployment controller may write status at any time); then what cncfdemo
 * owns: its managedFields entry and the generation.
 */
async function versions(kube: Kube): Promise<Map<string, string>> {
  const live = await readLiveState(kube);
  return new Map([...live.entries()].map(([id, o]) => {
    const ours = o.metadata?.managedFields?.filter((f) =>
      f.manager === "cncfdemo" && f.operation === "Apply"
    );
    return [id, JSON.stringify({ generation: o.metadata?.generation, ours })];
  }));
}

async function resourceVersions(kube: Kube): Promise<Map<string, string>> {
  const live = await readLiveState(kube);
  return new Map([...live.entries()].map(([id, o]) => [id, o.metadata?.resourceVersion ?? ""]));
}

/** Every labelled object of any kind that could carry the labels, pods and ReplicaSets included. */
async function everythingLabelled(kube: Kube): Promise<string[]> {
  const kinds = [
    ...MANAGED_KINDS,
    { apiVersion: "v1", kind: "Pod" },
    { apiVersion: "apps/v1", kind: "ReplicaSet" },
    { apiVersion: "v1", kind: "PersistentVolumeClaim" },
  ];
  const lists = await Promise.all(
    kinds.map((k) => kube.rest.list(k.apiVersion, k.kind, { labelSelector: MANAGED_SELECTOR })),
  );
  return lists.flat().map(objectId);
}

Deno.test("rollout: the full stack on a 3-node simulated cluster", async (t) => {
  await withSimCluster(["--nodes", "3"], async ({ sb, kube }) => {
    await t.step("--dry-run validates on the server and changes nothing", async () => {
      const r = await sb.task("rollout.ts", [...SIM, "--dry-run"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Dry run: 49 to create, 0 to change, 0 to delete, 0 unchanged\./);
      assert.deepEqual(await everythingLabelled(kube), []);
    });

    await t.step(
      "a full rollout ends with every workload ready and every init Job complete",
      async () => {
        const r = await sb.task("rollout.ts", [...SIM, "--timeout", "3m"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(
          r.stderr,
          /Rollout complete: 49 created, 0 configured, 0 pruned, 0 unchanged\./,
        );
        const live = await readLiveState(kube);
        assert.equal(live.size, 49);
        const waited = [...live.values()].filter((o) =>
          ["Deployment", "StatefulSet", "DaemonSet", "Job", "HorizontalPodAutoscaler"].includes(
            o.kind!,
          ) &&
          o.metadata?.annotations?.["cncfdemo.io/wait"] !== "false"
        );
        assert.equal(waited.filter((o) => o.kind === "Job").length, 5);
        for (const o of waited) {
          assert.ok(readiness(o).ready, `${objectId(o)}: ${readiness(o).status}`);
        }
        for (
          const svc of [...live.values()].filter((o) => o.kind === "Service")
        ) {
          const slices = await kube.rest.list<KubernetesObject>(
            "discovery.k8s.io/v1",
            "EndpointSlice",
            {
              namespace: svc.metadata!.namespace!,
              labelSelector: `kubernetes.io/service-name=${svc.metadata!.name}`,
            },
          );
          if (svc.metadata?.name === "boinc") continue;
          assert.ok(hasReadyEndpoint(slices), `${objectId(svc)} has a ready endpoint`);
        }
        // the waves ran in dependency order: each init Job started after the MongoDB pods were ready
        const job = await kube.batch.readNamespacedJob({
          name: "mongo-add-shards",
          namespace: "cncfdemo",
        });
        const mongos = await kube.apps.readNamespacedDeployment({
          name: "mongos",
          namespace: "cncfdemo",
        });
        const mongosReady = mongos.status?.conditions?.find((c) => c.type === "Available")
          ?.lastTransitionTime;
        assert.ok(
          mongosReady && job.metadata?.creationTimestamp &&
            new Date(job.metadata.creationTimestamp) >= new Date(mongosReady),
        );
        // the autoscaler was applied early, with the configuration, and its target came later
        const hpa = live.get("HorizontalPodAutoscaler cncfdemo/countly-api")!;
        const api = live.get("Deployment cncfdemo/countly-api")!;
        assert.ok(
          new Date(hpa.metadata!.creationTimestamp!) <
            new Date(api.metadata!.creationTimestamp!),
          `${hpa.metadata!.creationTimestamp} < ${api.metadata!.creationTimestamp}`,
        );
        assert.match(r.stderr, /Autoscalers .*1 object ready \(applied with "RBAC/);
      },
    );

    await t.step("a second run changes no object and says so", async () => {
      const before = await versions(kube);
      const rvs = await resourceVersions(kube);
      const r = await sb.task("rollout.ts", SIM);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Nothing changed: all 49 objects unchanged\./);
      assert.deepEqual(await versions(kube), before);
      // objects no controller writes to keep their resourceVersion outright
      const after = await resourceVersions(kube);
      for (const [id, rv] of rvs) {
        if (
          /^(ConfigMap|Secret|Service|Namespace|PriorityClass|ServiceAccount|ClusterRole|ClusterRoleBinding|NetworkPolicy|Job) /
            .test(id)
        ) {
          assert.equal(after.get(id), rv, id);
        }
      }
    });

    await t.step("--diff shows what would change and changes nothing", async () => {
      const before = await versions(kube);
      const r = await sb.task("rollout.ts", [
        ...SIM,
        "--diff",
        "--set",
        "countly.api.maxReplicas=12",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /HorizontalPodAutoscaler cncfdemo\/countly-api/);
      assert.match(r.stdout, /^-\s+maxReplicas: 10$/m);
      assert.match(r.stdout, /^\+\s+maxReplicas: 12$/m);
      assert.match(r.stderr, /Dry run: 0 to create, 1 to change, 0 to delete, 48 unchanged\./);
      assert.deepEqual(await versions(kube), before);
    });

    await t.step("bad values, template errors and rejected objects apply nothing", async () => {
      const before = await versions(kube);
      const unknown = await sb.task("rollout.ts", [...SIM, "--set", "countly.api.replicas=3"]);
      assert.equal(unknown.code, 2);
      assert.equal(
        unknown.stderr,
        "error: Unknown value countly.api.replicas (from --set countly.api.replicas=3): did you mean countly.api.minReplicas or countly.api.maxReplicas?\n",
      );
      const wrongType = await sb.task("rollout.ts", [...SIM, "--set", "mongo.shards=many"]);
      assert.equal(wrongType.code, 2);
      assert.match(
        wrongType.stderr,
        /^error: Value mongo\.shards \(from --set mongo\.shards=many\) must be a number, got "many"\n$/,
      );
      const broken = await sb.task("rollout.ts", SIM, {
        CNCFDEMO_TEMPLATES_DIR: new URL("../testdata/templates/broken/", import.meta.url).pathname,
      });
      assert.equal(broken.code, 2);
      assert.match(
        broken.stderr,
        /^error: Cannot render templates\/prometheus\/bad\.yaml\.njk line 4: .*\n$/,
      );
      const typo = await sb.task("rollout.ts", SIM, {
        CNCFDEMO_TEMPLATES_DIR: new URL("../testdata/templates/typo/", import.meta.url).pathname,
      });
      assert.equal(typo.code, 1);
      assert.match(
        typo.stderr,
        /\nerror: Cannot apply Deployment cncfdemo\/countly-api: .*\.spec\.replicaz: field not declared in schema\n$/,
      );
      assert.deepEqual(await versions(kube), before);
    });

    await t.step("objects no longer rendered are pruned", async () => {
      const r = await sb.task("rollout.ts", [...SIM, "--set", "boinc.enabled=false"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Rollout complete: 0 created, 0 configured, 4 pruned, 45 unchanged\./);
      const live = await readLiveState(kube);
      assert.ok(
        ![...live.keys()].some((id) => id.includes("boinc") || id.includes("cncfdemo-background")),
      );
      const back = await sb.task("rollout.ts", SIM);
      assert.match(back.stderr, /Rollout complete: 4 created/);
    });

    await t.step(
      "teardown --apps deletes everything labelled, and waits until it is gone",
      async () => {
        const r = await sb.task("teardown.ts", ["--apps"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /deleted 49 objects/);
        assert.deepEqual(await everythingLabelled(kube), []);
        const ns = await kube.core.listNamespace();
        assert.ok(!ns.items.some((n) => ["cncfdemo", "monitoring"].includes(n.metadata!.name!)));
        const again = await sb.task("teardown.ts", ["--apps"]);
        assert.equal(again.code, 0);
        assert.match(again.stderr, /nothing to delete/);
      },
    );
  });
});

Deno.test("rollout: an API server that does not answer is one line and a non-zero exit", async () => {
  const sb = await sandbox();
  try {
    const port = freePort(); // nothing listens there
    await Deno.mkdir(`${sb.dir}/kube`, { recursive: true });
    await Deno.writeTextFile(
      sb.kubeconfig,
      `apiVersion: v1
kind: Config
clusters: [{name: gone, cluster: {server: "https://127.0.0.1:${port}"}}]
users: [{name: gone, user: {token: x}}]
contexts: [{name: gone, context: {cluster: gone, user: gone}}]
current-context: gone
`,
    );
    const r = await sb.task("rollout.ts", []);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^error: Cannot reach the Kubernetes API server at https://127\\.0\\.0\\.1:${port} \\(context gone\\): connection refused`,
      ),
    );
    const apps = await sb.task("teardown.ts", ["--apps"]);
    assert.equal(apps.code, 1);
    assert.match(apps.stderr, /^error: Cannot reach the Kubernetes API server/);
  } finally {
    await sb.cleanup();
  }
});
