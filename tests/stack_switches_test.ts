/**
 * Components switched on and off, against a real control plane (simulated nodes): contradictions
 * refused with nothing applied, the bench target rolled out and ready, a component switched off
 * pruned by the next rollout, namespaces kept while anything lives in them, a pod that cannot get
 * its image stopping the rollout's wait (and the bench's) at once, and `demo --context` on the same
 * existing cluster.
 */
import assert from "node:assert/strict";
import type { KubernetesObject, V1Pod } from "@kubernetes/client-node";
import { jobName, runClusterGenerators } from "../lib/bench/cluster_runner.ts";
import { Pushgateway } from "../lib/bench/pushgateway.ts";
import { TimeoutError } from "../lib/errors.ts";
import { hasReadyEndpoint, readiness } from "../lib/kube/readiness.ts";
import { watchUntil } from "../lib/kube/watch.ts";
import { commonLabels, MANAGED_SELECTOR } from "../lib/stack/components.ts";
import type { Rendered } from "../lib/stack/render.ts";
import { readLiveState, waitReady } from "../lib/stack/rollout.ts";
import { Deadline } from "../lib/wait.ts";
import { startPushgateway } from "./support/servers.ts";
import { withSimCluster } from "./support/sim_cluster.ts";

const SIM = ["--set", "mongo.persistence.enabled=false"];
const OFFLINE_SHAPE = [
  "--set",
  "mongo.enabled=false",
  "--set",
  "countly.enabled=false",
  "--set",
  "grafana.enabled=false",
];
const component = (o: KubernetesObject) => o.metadata?.labels?.["app.kubernetes.io/component"];

Deno.test("stack switches on a simulated cluster: refusals, bench target, prune, image pull failures, demo --context", async (t) => {
  await withSimCluster(["--nodes", "2"], async ({ sb, name, kube }) => {
    await t.step("contradictory switches are refused in one line, nothing applied", async () => {
      for (
        const [sets, error] of [
          [
            ["--set", "mongo.enabled=false"],
            "error: countly.enabled=true needs mongo.enabled=true: switch Countly off too (--set countly.enabled=false)\n",
          ],
          [
            ["--set", "countly.enabled=false"],
            "error: mongo.enabled=true serves only Countly, which is off (countly.enabled=false): switch MongoDB off too (--set mongo.enabled=false)\n",
          ],
        ] as const
      ) {
        const r = await sb.task("rollout.ts", [...SIM, ...sets]);
        assert.equal(r.code, 2);
        assert.equal(r.stderr, error);
      }
      assert.equal((await readLiveState(kube)).size, 0);
      const ns = (await kube.core.listNamespace()).items.map((n) => n.metadata!.name);
      assert.ok(!ns.includes("cncfdemo") && !ns.includes("monitoring"));
    });

    await t.step("the bench target rolls out with the stack and is ready", async () => {
      const r = await sb.task("rollout.ts", [
        ...SIM,
        "--set",
        "benchTarget.enabled=true",
        "--timeout",
        "3m",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Rollout complete: 51 created, 0 configured, 0 pruned, 0 unchanged\./);
      const live = await readLiveState(kube);
      const deploy = live.get("Deployment cncfdemo/bench-target")!;
      assert.ok(readiness(deploy).ready, readiness(deploy).status);
      assert.ok(live.has("Service cncfdemo/bench-target"));
      const slices = await kube.rest.list<KubernetesObject>(
        "discovery.k8s.io/v1",
        "EndpointSlice",
        {
          namespace: "cncfdemo",
          labelSelector: "kubernetes.io/service-name=bench-target",
        },
      );
      assert.ok(hasReadyEndpoint(slices));
      const pods = await kube.core.listNamespacedPod({
        namespace: "cncfdemo",
        labelSelector: "app.kubernetes.io/component=bench-target",
      });
      assert.equal(pods.items.length, 1);
      assert.equal(
        pods.items[0]!.spec?.containers[0]?.image,
        "ghcr.io/cncfdemo/bench-target:0.1.0",
      );
    });

    await t.step("a component switched off is pruned by the next rollout", async () => {
      const r = await sb.task("rollout.ts", [
        ...SIM,
        "--set",
        "benchTarget.enabled=true",
        "--set",
        "grafana.enabled=false",
      ]);
      assert.equal(r.code, 0, r.stderr);
      // Deployment, Service, Secret and three ConfigMaps
      assert.match(r.stderr, /Rollout complete: 0 created, 0 configured, 6 pruned, 45 unchanged\./);
      const live = await readLiveState(kube);
      assert.deepEqual([...live.values()].filter((o) => component(o) === "grafana"), []);
      const pods = await kube.core.listNamespacedPod({
        namespace: "monitoring",
        labelSelector: "app.kubernetes.io/component=grafana",
      });
      assert.equal(pods.items.length, 0);
    });

    await t.step(
      "MongoDB and Countly off: pruned, the app namespace stays for BOINC and the bench target",
      async () => {
        const r = await sb.task("rollout.ts", [
          ...SIM,
          ...OFFLINE_SHAPE,
          "--set",
          "benchTarget.enabled=true",
        ]);
        assert.equal(r.code, 0, r.stderr);
        const live = await readLiveState(kube);
        const left = new Set([...live.values()].map(component));
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
        ) {
          assert.ok(!left.has(c), c);
        }
        assert.ok(left.has("bench-target") && left.has("boinc") && left.has("prometheus"));
        // the namespace now carries the first component still in it
        assert.equal(component(live.get("Namespace cncfdemo")!), "boinc");
        assert.match(
          r.stderr,
          /Rollout complete: 0 created, 1 configured, \d+ pruned, \d+ unchanged\./,
        );
        assert.ok(!live.has("PriorityClass cncfdemo-high"));
        const pods = await kube.core.listNamespacedPod({ namespace: "cncfdemo" });
        assert.deepEqual(
          [...new Set(pods.items.map((p) => component(p)))].sort(),
          ["bench-target", "boinc"],
        );
        const again = await sb.task("rollout.ts", [
          ...SIM,
          ...OFFLINE_SHAPE,
          "--set",
          "benchTarget.enabled=true",
        ]);
        assert.match(again.stderr, /Nothing changed: all \d+ objects unchanged\./);
      },
    );

    await t.step(
      "a pod whose image cannot be pulled stops the wait at once, naming image and component",
      async () => {
        // A Deployment whose pod is never scheduled (no node matches): kwok leaves it alone, and its
        // status is written here as a kubelet would write it.
        const labels = { ...commonLabels("grafana"), "app.kubernetes.io/name": "pull-test" };
        const deployment = {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "pull-test", namespace: "monitoring", labels },
          spec: {
            replicas: 1,
            selector: { matchLabels: { "app.kubernetes.io/name": "pull-test" } },
            template: {
              metadata: { labels },
              spec: {
                nodeSelector: { "cncfdemo.io/test": "nowhere" },
                initContainers: [{ name: "init", image: "docker.io/library/busybox:1.37" }],
                containers: [{ name: "main", image: "docker.io/grafana/grafana:12.1.1" }],
              },
            },
          },
        } as Rendered;
        await kube.rest.apply(deployment, { fieldManager: "cncfdemo-test" });
        const [pod] = await watchUntil<V1Pod>(
          kube,
          {
            apiVersion: "v1",
            kind: "Pod",
            namespace: "monitoring",
            labelSelector: MANAGED_SELECTOR,
          },
          (ps) => ps.some((p) => p.metadata?.labels?.["app.kubernetes.io/name"] === "pull-test"),
          { timeoutMs: 60_000, describe: () => "the test pod was not created" },
        ).then((ps) =>
          ps.filter((p) => p.metadata?.labels?.["app.kubernetes.io/name"] === "pull-test")
        );
        await kube.rest.request(
          "PATCH",
          `/api/v1/namespaces/monitoring/pods/${pod!.metadata!.name}/status`,
          {
            contentType: "application/merge-patch+json",
            body: {
              status: {
                initContainerStatuses: [{
                  name: "init",
                  image: "docker.io/library/busybox:1.37",
                  imageID: "",
                  ready: false,
                  restartCount: 0,
                  state: {
                    waiting: {
                      reason: "ErrImageNeverPull",
                      message:
                        'Container image "docker.io/library/busybox:1.37" is not present with pull policy of Never',
                    },
                  },
                }],
              },
            },
          },
        );
        const ctx = { progress: () => {}, note: () => {} };
        const err = await waitReady(kube, [deployment], [], new Deadline(300_000), ctx).then(
          () => undefined,
          (e) => e,
        );
        assert.ok(err instanceof Error && !(err instanceof TimeoutError), String(err));
        assert.equal(
          err.message,
          'Cannot pull docker.io/library/busybox:1.37 for component grafana (ErrImageNeverPull: Container image "docker.io/library/busybox:1.37" is not present with pull policy of Never): make it available (from a registry the node can reach, or imported onto the node) or switch the component off (--set grafana.enabled=false)',
        );
        await kube.rest.delete(deployment, { propagationPolicy: "Foreground" });
      },
    );

    await t.step("bench: a generator that cannot get its image is named in one line", async () => {
      // kwok's nodes never get the wrk Job's pods (they keep off simulated nodes): the pod stays
      // unscheduled, and its status is written here as a kubelet would write it.
      const pushgateway = await startPushgateway();
      const runId = "20261125-120000-pull";
      try {
        const patchWhenCreated = watchUntil<V1Pod>(
          kube,
          {
            apiVersion: "v1",
            kind: "Pod",
            namespace: "cncfdemo",
            labelSelector: `job-name=${jobName(runId)}`,
          },
          (ps) => ps.length > 0,
          { timeoutMs: 60_000, describe: () => "the wrk pod was not created" },
        ).then(([pod]) =>
          kube.rest.request(
            "PATCH",
            `/api/v1/namespaces/cncfdemo/pods/${pod!.metadata!.name}/status`,
            {
              contentType: "application/merge-patch+json",
              body: {
                status: {
                  containerStatuses: [{
                    name: "wrk",
                    image: "ghcr.io/cncfdemo/wrk:0.1.0",
                    imageID: "",
                    ready: false,
                    restartCount: 0,
                    state: {
                      waiting: {
                        reason: "ImagePullBackOff",
                        message:
                          'Back-off pulling image "ghcr.io/cncfdemo/wrk:0.1.0": ErrImagePull: not found',
                      },
                    },
                  }],
                },
              },
            },
          )
        );
        const run = runClusterGenerators(kube, Pushgateway.at(pushgateway.url), {
          runId,
          namespace: "cncfdemo",
          image: "ghcr.io/cncfdemo/wrk:0.1.0",
          parallelism: 1,
          url: "http://bench-target.cncfdemo/",
          durationS: 5,
          connections: 4,
          threads: 1,
          requestTimeoutS: 2,
          statusCounts: false,
          pushgatewayUrl: "http://pushgateway.monitoring:9091",
          deadlineS: 400,
          startTimeoutMs: 300_000,
          progress: () => {},
        });
        const [err] = await Promise.all([run.then(() => undefined, (e) => e), patchWhenCreated]);
        assert.ok(err instanceof Error && !(err instanceof TimeoutError), String(err));
        assert.equal(
          err.message,
          'Cannot pull ghcr.io/cncfdemo/wrk:0.1.0 for the wrk generators (ImagePullBackOff: Back-off pulling image "ghcr.io/cncfdemo/wrk:0.1.0": ErrImagePull: not found): make it available (deno task bake --target images) or pass --image',
        );
        // the Job is deleted whatever happened
        await watchUntil(
          kube,
          {
            apiVersion: "batch/v1",
            kind: "Job",
            namespace: "cncfdemo",
            fieldSelector: `metadata.name=${jobName(runId)}`,
          },
          (jobs) => jobs.length === 0,
          { timeoutMs: 60_000, describe: () => "the wrk Job is still there" },
        );
      } finally {
        await pushgateway.stop();
      }
    });

    await t.step(
      "demo --context runs the stack on the existing cluster without bootstrapping",
      async () => {
        const before = await Deno.readTextFile(sb.kubeconfig);
        const r = await sb.task("demo.ts", ["--context", `sim-${name}`, "--timeout", "3m"]);
        assert.equal(r.code, 0, r.stderr);
        assert.doesNotMatch(r.stderr, /Bootstrap/);
        assert.match(
          r.stderr,
          /✓ Fit the stack to the cluster .*MongoDB in emptyDir \(no default StorageClass\)/,
        );
        // back to the defaults: MongoDB, Countly and Grafana return, the bench target goes
        assert.match(
          r.stderr,
          /Rollout complete: \d+ created, \d+ configured, 2 pruned, \d+ unchanged\./,
        );
        assert.match(
          r.stderr,
          new RegExp(
            `Benchmark skipped: context sim-${name} is a simulated cluster: its 2 nodes are simulated by kwok and run no containers\\.`,
          ),
        );
        assert.match(
          r.stderr,
          new RegExp(
            `Cluster: +https://127\\.0\\.0\\.1:\\d+ \\(context sim-${name}, 2 simulated nodes\\)`,
          ),
        );
        assert.match(
          r.stderr,
          new RegExp(
            `Tear down: +deno task teardown --apps --context sim-${name}  \\(the stack; the cluster is yours\\)`,
          ),
        );
        assert.equal(
          await Deno.readTextFile(sb.kubeconfig),
          before,
          "the kubeconfig is left as it was",
        );
        assert.equal((await readLiveState(kube)).size, 49);
      },
    );
  });
});
