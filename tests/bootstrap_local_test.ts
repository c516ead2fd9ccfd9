/**
 * bootstrap:local on this machine: a real node (kubelet, kube-proxy, containerd, runc, the CNI
 * bridge) running real containers from images built here, checked through the API server, the
 * kernel (cgroups, routes, nftables) and the containers themselves; then teardown, after which the
 * host is as it was. Needs Linux and root (CI runs as root); skipped otherwise.
 */
import assert from "node:assert/strict";
import type { KubernetesObject, V1Node, V1Pod } from "@kubernetes/client-node";
import { parse } from "yaml";
import { resolveBinaries } from "../lib/binaries.ts";
import { CATALOG } from "../lib/images/catalog.ts";
import { connectKube, type Kube } from "../lib/kube/client.ts";
import { watchUntil } from "../lib/kube/watch.ts";
import { run } from "../lib/run_program.ts";
import { guardDrops } from "../lib/providers/local/network.ts";
import { pollUntil } from "../lib/wait.ts";
import { hostSnapshot } from "./support/host_snapshot.ts";
import { sandbox } from "./support/env.ts";
import { bootstrapLocal, canRunLocal, holdRealNode } from "./support/local_cluster.ts";
import { apply, cpuHpa, type Obj, ready, web } from "./support/experiment_workloads.ts";

const ignore = !canRunLocal;
const NS = "default";
const TOOLS = CATALOG.tools.ref;
const WEB = CATALOG["bench-target"].ref;
const WRK = CATALOG.wrk.ref;

function job(
  name: string,
  image: string,
  script: string,
  container: object = {},
  pod: object = {},
): Obj {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: NS },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: 120,
      template: {
        spec: {
          restartPolicy: "Never",
          containers: [{
            name: "main",
            image,
            imagePullPolicy: "IfNotPresent",
            command: ["sh", "-c", script],
            ...container,
          }],
          ...pod,
        },
      },
    },
  } as Obj;
}

/** The logs of a Job's pod, through the API server (which dials the kubelet, TLS verified). */
async function jobLogs(kube: Kube, name: string): Promise<string> {
  const { items } = await kube.core.listNamespacedPod({
    namespace: NS,
    labelSelector: `job-name=${name}`,
  });
  const pod = items[0]!.metadata!.name!;
  return await kube.rest.requestText("GET", `/api/v1/namespaces/${NS}/pods/${pod}/log`);
}

/** A pod's container's cgroup directory in the given cgroup v1 hierarchy. */
async function containerCgroup(hierarchy: string, pod: V1Pod, cluster: string): Promise<string> {
  const id = pod.status!.containerStatuses![0]!.containerID!.replace(/^containerd:\/\//, "");
  const root = `/sys/fs/cgroup/${hierarchy}/cncfdemo-${cluster}`;
  const find = async (dir: string): Promise<string | undefined> => {
    for await (const e of Deno.readDir(dir)) {
      if (!e.isDirectory) continue;
      if (e.name.includes(id)) return `${dir}/${e.name}`;
      const deeper = await find(`${dir}/${e.name}`);
      if (deeper) return deeper;
    }
    return undefined;
  };
  const dir = await find(root);
  assert.ok(dir, `no cgroup for container ${id} under ${root}`);
  return dir;
}

Deno.test({
  name: "bootstrap:local → a real node runs containers; teardown leaves the host as it was",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
}, async (t) => {
  using _node = await holdRealNode();
  const sb = await sandbox();
  const name = `lt${crypto.randomUUID().slice(0, 6)}`;
  const stateDir = `${sb.env.CNCFDEMO_STATE_DIR}/local/${name}`;
  const before = await hostSnapshot(stateDir);
  let kube: Kube | undefined;
  try {
    const up = await bootstrapLocal(sb, name);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /✓ kubelet and kube-proxy .*node \S+ Ready/);
    kube = await connectKube({ kubeconfig: sb.kubeconfig });

    await t.step(
      "the context is current and the node is Ready with the machine's capacity",
      async () => {
        // deno-lint-ignore no-explicit-any
        const doc = parse(await Deno.readTextFile(sb.kubeconfig)) as any;
        assert.equal(doc["current-context"], `local-${name}`);
        const { items } = await kube!.core.listNode();
        assert.equal(items.length, 1);
        const node = items[0] as V1Node;
        assert.ok(node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
        assert.equal(node.status?.capacity?.cpu, String(navigator.hardwareConcurrency));
        const memKiB = Number(
          /MemTotal:\s+(\d+)/.exec(await Deno.readTextFile("/proc/meminfo"))![1],
        );
        assert.equal(node.status?.capacity?.memory, `${memKiB}Ki`);
        assert.equal(node.metadata?.annotations?.["cncfdemo.io/images"], "offline");
        assert.ok(
          node.status?.images?.some((i) => i.names?.includes(WEB)),
          "the imported images are on the node",
        );
      },
    );

    await t.step("every listener of the cluster is on loopback or the node's bridge", async () => {
      const pids = new Set((await hostSnapshot(stateDir)).processes);
      const ss = await run("ss", ["-Hltnp"]);
      const mine = ss.stdout.split("\n").filter((l) =>
        [...pids].some((p) => l.includes(`pid=${p},`))
      );
      assert.ok(mine.length >= 8, ss.stdout);
      for (const line of mine) {
        assert.match(line.split(/\s+/)[3]!, /^(127\.0\.0\.1|10\.244\.0\.1):\d+$/, line);
      }
    });

    await t.step("the service CIDR is routed onto the node's bridge", async () => {
      const r = await run("ip", ["-4", "route", "get", "10.96.200.200"]);
      assert.match(r.stdout, /dev cncfdemo0/);
    });

    await t.step(
      "a 2-replica Deployment is Available; a Job reaches its Service by DNS name",
      async () => {
        await apply(kube!, ...web("web", 2, "50m"));
        const d = await ready(kube!, "Deployment", "web");
        assert.equal(
          (d as { status?: { availableReplicas?: number } }).status?.availableReplicas,
          2,
        );
        await apply(
          kube!,
          job(
            "reach-web",
            TOOLS,
            "set -e; dig +short web.default.svc.cluster.local; curl -fsS -o /dev/null -w '%{http_code}\\n' http://web.default.svc.cluster.local/",
          ),
        );
        await ready(kube!, "Job", "reach-web");
        const logs = await jobLogs(kube!, "reach-web");
        const svc = await kube!.core.readNamespacedService({ name: "web", namespace: NS });
        assert.ok(logs.includes(svc.spec!.clusterIP!), `DNS answered the ClusterIP: ${logs}`);
        assert.match(logs, /^200$/m);
      },
    );

    await t.step("a killed container is restarted by the kubelet", async () => {
      const { items } = await kube!.core.listNamespacedPod({
        namespace: NS,
        labelSelector: "app=web",
      });
      const pod = items[0]!;
      const cg = await containerCgroup("pids", pod, name);
      const pids = (await Deno.readTextFile(`${cg}/cgroup.procs`)).trim().split("\n").map(Number);
      for (const pid of pids) Deno.kill(pid, "SIGKILL");
      const [again] = await watchUntil<V1Pod>(
        kube!,
        {
          apiVersion: "v1",
          kind: "Pod",
          namespace: NS,
          fieldSelector: `metadata.name=${pod.metadata!.name}`,
        },
        (ps) =>
          ps[0]?.status?.containerStatuses?.[0]?.restartCount === 1 &&
          ps[0].status.containerStatuses[0].ready === true,
        { timeoutMs: 60_000, describe: () => "the container was not restarted and Ready again" },
      );
      assert.equal(again!.status!.containerStatuses![0]!.lastState?.terminated?.exitCode, 137);
    });

    await t.step("a 200m CPU limit holds two busy loops to about a fifth of a core", async () => {
      await apply(kube!, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "busy", namespace: NS },
        spec: {
          containers: [{
            name: "busy",
            image: TOOLS,
            imagePullPolicy: "IfNotPresent",
            // Two busy loops: their demand (two cores) exceeds the limit even on a loaded host.
            command: ["sh", "-c", "while :; do :; done & while :; do :; done"],
            resources: { limits: { cpu: "200m", memory: "32Mi" } },
          }],
        },
      } as Obj);
      const [pod] = await watchUntil<V1Pod>(
        kube!,
        { apiVersion: "v1", kind: "Pod", namespace: NS, fieldSelector: "metadata.name=busy" },
        (ps) => ps[0]?.status?.containerStatuses?.[0]?.state?.running !== undefined,
        { timeoutMs: 60_000, describe: () => "busy is not running" },
      );
      const cpu = await containerCgroup("cpu", pod!, name);
      assert.equal((await Deno.readTextFile(`${cpu}/cpu.cfs_quota_us`)).trim(), "20000");
      const acct = await containerCgroup("cpuacct", pod!, name);
      const usage = async () => Number(await Deno.readTextFile(`${acct}/cpuacct.usage`));
      // A measurement window, not a wait: CPU time used over 3 s of wall time.
      const u0 = await usage();
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, 3_000));
      const share = (await usage() - u0) / 1e6 / (performance.now() - t0);
      assert.ok(
        share > 0.12 && share < 0.25,
        `the busy loop used ${(share * 100).toFixed(1)}% of a core`,
      );
      const stat = await Deno.readTextFile(`${cpu}/cpu.stat`);
      assert.ok(Number(/nr_throttled (\d+)/.exec(stat)![1]) > 0, stat);
      await kube!.core.deleteNamespacedPod({ name: "busy", namespace: NS, gracePeriodSeconds: 0 });
    });

    await t.step("a claim on the default StorageClass binds and a pod writes to it", async () => {
      await apply(
        kube!,
        {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          metadata: { name: "data", namespace: NS },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "64Mi" } } },
        } as Obj,
        job(
          "write-data",
          TOOLS,
          "echo kept > /data/file && cat /data/file",
          { volumeMounts: [{ name: "data", mountPath: "/data" }] },
          { volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data" } }] },
        ),
      );
      await ready(kube!, "Job", "write-data", 120_000);
      assert.match(await jobLogs(kube!, "write-data"), /^kept$/m);
      const pvc = await kube!.core.readNamespacedPersistentVolumeClaim({
        name: "data",
        namespace: NS,
      });
      assert.equal(pvc.status?.phase, "Bound");
      assert.equal(pvc.spec?.storageClassName, "local-path");
    });

    await t.step("kubectl top reads metrics-server", async () => {
      const { paths } = await resolveBinaries(["kubectl"], { noBuild: true });
      const out = await pollUntil(async () => {
        const r = await run(
          paths.kubectl,
          ["--kubeconfig", sb.kubeconfig, "top", "pods", "-n", NS],
          { allowFailure: true },
        );
        return r.code === 0 && /web-\S+\s+\d+m\s+\d+Mi/.test(r.stdout) ? r.stdout : undefined;
      }, {
        timeoutMs: 90_000,
        maxIntervalMs: 2_000,
        describe: () => "kubectl top pods showed no metrics",
      });
      assert.match(out, /NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    });

    await t.step(
      "an HPA on CPU scales a Deployment up under wrk load and down after it",
      async () => {
        await apply(
          kube!,
          ...web("hpa-web", 1),
          cpuHpa("hpa-web", {
            stabilizationWindowSeconds: 0,
            policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
          }),
        );
        await ready(kube!, "Deployment", "hpa-web");
        // Bounded load: 90 s at most, from one wrk pod.
        await apply(
          kube!,
          job(
            "load",
            WRK,
            "wrk -t1 -c8 -d90s http://hpa-web.default.svc.cluster.local:80/ >/dev/null",
          ),
        );
        type Hpa = KubernetesObject & {
          status?: {
            desiredReplicas?: number;
            currentReplicas?: number;
            conditions?: { type: string; status: string }[];
            currentMetrics?: { resource?: { current?: { averageUtilization?: number } } }[];
          };
        };
        const hpa = {
          apiVersion: "autoscaling/v2",
          kind: "HorizontalPodAutoscaler",
          namespace: NS,
          fieldSelector: "metadata.name=hpa-web",
        };
        const [up] = await watchUntil<Hpa>(
          kube!,
          hpa,
          (hs) => (hs[0]?.status?.desiredReplicas ?? 0) >= 2,
          {
            timeoutMs: 120_000,
            describe: (hs) => `the HPA did not scale up: ${JSON.stringify(hs[0]?.status)}`,
          },
        );
        assert.ok(up!.status!.desiredReplicas! >= 2);
        // Metrics arrive: the autoscaler reports ScalingActive and a current CPU figure.
        assert.ok(
          up!.status!.conditions?.some((c) => c.type === "ScalingActive" && c.status === "True"),
          JSON.stringify(up!.status),
        );
        assert.ok(
          (up!.status!.currentMetrics?.[0]?.resource?.current?.averageUtilization ?? 0) > 0,
        );
        await kube!.rest.delete(
          { apiVersion: "batch/v1", kind: "Job", metadata: { name: "load", namespace: NS } },
          { propagationPolicy: "Foreground" },
        );
        await watchUntil<Hpa>(kube!, hpa, (hs) => hs[0]?.status?.desiredReplicas === 1, {
          timeoutMs: 150_000,
          describe: (hs) => `the HPA did not scale down: ${JSON.stringify(hs[0]?.status)}`,
        });
      },
    );

    await t.step("pods cannot reach beyond the host: the guard drops and counts", async () => {
      // An "outside" host in a network namespace of the test's own, routed back to the pods.
      const netns = `cdt-${name}`;
      await run("ip", ["netns", "add", netns]);
      try {
        await run("ip", ["link", "add", `${name}o`, "type", "veth", "peer", "name", `${name}i`]);
        await run("ip", ["link", "set", `${name}i`, "netns", netns]);
        await run("ip", ["addr", "add", "10.200.77.1/24", "dev", `${name}o`]);
        await run("ip", ["link", "set", `${name}o`, "up"]);
        await run("ip", ["-n", netns, "addr", "add", "10.200.77.2/24", "dev", `${name}i`]);
        await run("ip", ["-n", netns, "link", "set", `${name}i`, "up"]);
        await run("ip", ["-n", netns, "route", "add", "10.244.0.0/16", "via", "10.200.77.1"]);
        const server = new Deno.Command("ip", {
          args: [
            "netns",
            "exec",
            netns,
            "python3",
            "-m",
            "http.server",
            "8080",
            "--bind",
            "10.200.77.2",
          ],
          stdout: "null",
          stderr: "null",
        }).spawn();
        try {
          // The host reaches it: the outside host really answers.
          await pollUntil(
            async () =>
              (await run("curl", ["-sf", "--max-time", "2", "http://10.200.77.2:8080/"], {
                allowFailure: true,
              })).code === 0,
            {
              timeoutMs: 10_000,
              describe: () => "the test's outside host does not answer",
            },
          );
          const dropped = await guardDrops();
          await apply(
            kube!,
            job(
              "escape",
              TOOLS,
              "curl -sS --max-time 3 http://10.200.77.2:8080/ && echo REACHED || echo BLOCKED",
            ),
          );
          await ready(kube!, "Job", "escape");
          assert.match(await jobLogs(kube!, "escape"), /BLOCKED/);
          assert.ok((await guardDrops()) > dropped, "the guard counted the dropped packets");
        } finally {
          server.kill();
          await server.status;
        }
      } finally {
        await run("ip", ["link", "del", `${name}o`], { allowFailure: true });
        await run("ip", ["netns", "del", netns], { allowFailure: true });
      }
    });

    await t.step("re-running converges without changing anything", async () => {
      const again = await bootstrapLocal(sb, name);
      assert.equal(again.code, 0, again.stderr);
      for (const s of ["Network", "Certificates", "Apply the add-ons"]) {
        assert.match(again.stderr, new RegExp(`✓ ${s}.* — unchanged`), again.stderr);
      }
      assert.match(again.stderr, /kube-apiserver unchanged/);
      assert.match(again.stderr, /kubelet unchanged/);
    });

    await t.step("teardown leaves the host as it was; twice is fine", async () => {
      kube?.close();
      kube = undefined;
      const down = await sb.task("teardown.ts", ["--provider", "local", "--name", name]);
      assert.equal(down.code, 0, down.stderr);
      const after = await hostSnapshot(stateDir);
      assert.deepEqual(after, before);
      await assert.rejects(Deno.stat(stateDir), Deno.errors.NotFound);
      // deno-lint-ignore no-explicit-any
      const doc = parse(await Deno.readTextFile(sb.kubeconfig)) as any;
      assert.deepEqual(doc.contexts, []);
      const twice = await sb.task("teardown.ts", ["--provider", "local", "--name", name]);
      assert.equal(twice.code, 0, twice.stderr);
      assert.match(twice.stderr, /no processes/);
    });
  } finally {
    kube?.close();
    await sb.task("teardown.ts", ["--provider", "local", "--name", name]);
    await sb.cleanup();
  }
});
