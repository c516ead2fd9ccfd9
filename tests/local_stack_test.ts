/**
 * The stack on a real node (bootstrap:local, images built here): the monitoring track, BOINC and
 * the bench target roll out and run; Prometheus scrapes every target (the API server and the
 * kubelets over TLS verified with the cluster CA) and the cluster dashboard's queries return data;
 * `deno task bench` runs in the cluster end to end (an Indexed Job of 2 wrk pods against the bench
 * target, results pushed to the in-cluster Pushgateway, kept until Prometheus scraped them, merged,
 * written as JSON and HTML); BOINC runs as the container's main process for 2 minutes without a
 * restart, stops within its grace period, and is preempted by the scheduler when the foreground
 * scales up (and runs again when it scales back); an image the node cannot have is named in one line long before the rollout's deadline.
 */
import assert from "node:assert/strict";
import type { V1Pod } from "@kubernetes/client-node";
import { resolveBinaries } from "../lib/binaries.ts";
import { CATALOG } from "../lib/images/catalog.ts";
import type { Kube } from "../lib/kube/client.ts";
import { watchUntil } from "../lib/kube/watch.ts";
import { run } from "../lib/run_program.ts";
import { parseQuantity } from "../lib/quantity.ts";
import { pollUntil } from "../lib/wait.ts";
import { canRunLocal, withLocalCluster } from "./support/local_cluster.ts";

/** A Prometheus API call through the API server's service proxy. */
async function prometheus<T>(kube: Kube, path: string): Promise<T> {
  const body = await kube.rest.request<{ status: string; data: T }>(
    "GET",
    `/api/v1/namespaces/monitoring/services/prometheus:9090/proxy/api/v1/${path}`,
  );
  return body.data;
}

const query = (kube: Kube, expr: string) =>
  prometheus<{ result: unknown[] }>(kube, `query?query=${encodeURIComponent(expr)}`);

const DASHBOARD = new URL(
  "../templates/grafana/configmaps/grafana-dashboards/cluster.json",
  import.meta.url,
);

/** What an offline node can run: MongoDB, Countly and Grafana cannot be had here. */
const OFFLINE = [
  "mongo.enabled=false",
  "countly.enabled=false",
  "benchTarget.enabled=true",
  // One BOINC worker: two would leave no room for both generators until one is preempted.
  "boinc.replicas=1",
]
  .flatMap((s) => ["--set", s]);

Deno.test({
  name: "the stack on a real node: rollout, in-cluster bench with 2 generators, unpullable image",
  ignore: !canRunLocal,
}, async (t) => {
  await withLocalCluster([], async ({ sb, kube }) => {
    await t.step("the offline shape of the stack rolls out and every container runs", async () => {
      const r = await sb.task("rollout.ts", [
        ...OFFLINE,
        "--set",
        "grafana.enabled=false",
        "--timeout",
        "5m",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const expected: [string, string][] = [
        ["monitoring", "prometheus"],
        ["monitoring", "pushgateway"],
        ["monitoring", "node-exporter"],
        ["cncfdemo", "bench-target"],
        ["cncfdemo", "boinc"],
      ];
      for (const [ns, label] of expected) {
        const { items } = await kube.core.listNamespacedPod({
          namespace: ns,
          labelSelector: `app.kubernetes.io/component=${label}`,
        });
        assert.ok(items.length >= 1, `${label} has pods`);
        for (const p of items) {
          assert.ok(
            p.status?.containerStatuses?.every((c) => c.ready),
            `${p.metadata?.name} ready`,
          );
        }
      }
    });

    await t.step(
      "Prometheus scrapes every target over verified TLS; the cluster dashboard has data",
      async () => {
        type Target = { labels: { job: string }; health: string; lastError: string };
        const jobs = ["apiserver", "kubelet", "kubelet-cadvisor", "node-exporter", "pushgateway"];
        let seen: Target[] = [];
        await pollUntil(async () => {
          seen = (await prometheus<{ activeTargets: Target[] }>(kube, "targets?state=active"))
            .activeTargets;
          return jobs.every((j) => seen.some((t) => t.labels.job === j && t.health === "up"));
        }, {
          timeoutMs: 120_000,
          maxIntervalMs: 3_000,
          describe: () =>
            `targets not up: ${
              seen.filter((t) => t.health !== "up").map((t) => `${t.labels.job}: ${t.lastError}`)
                .join("; ") || "none reported"
            }`,
        });
        const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD)) as {
          panels: { targets?: { expr: string }[] }[];
        };
        const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
        assert.ok(exprs.length >= 10, `${exprs.length} queries`);
        let empty: string[] = [];
        await pollUntil(async () => {
          empty = [];
          for (const e of exprs) if ((await query(kube, e)).result.length === 0) empty.push(e);
          return empty.length === 0;
        }, {
          timeoutMs: 120_000,
          maxIntervalMs: 5_000,
          describe: () => `queries with no data: ${empty.join(" | ")}`,
        });
      },
    );

    await t.step("bench in the cluster: 2 wrk pods, pushed, merged, JSON and HTML", async () => {
      const results = `${sb.dir}/results`;
      const r = await sb.task("bench.ts", [
        "--url",
        "http://bench-target.cncfdemo/",
        "--parallelism",
        "2",
        "--time",
        "5s",
        "--connections",
        "8",
        "--threads",
        "1",
        "--results-dir",
        results,
        "--save-html",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const files = [...Deno.readDirSync(results)].map((e) => e.name);
      const json = files.find((f) => f.endsWith(".json"));
      const html = files.find((f) => f.endsWith(".html"));
      assert.ok(json && html, files.join(", "));
      const result = JSON.parse(await Deno.readTextFile(`${results}/${json}`));
      assert.equal(result.schema, "cncfdemo.bench/v1");
      assert.equal(result.generators.length, 2);
      const total = result.generators.reduce(
        (n: number, g: { requests: number }) => n + g.requests,
        0,
      );
      assert.equal(result.requests, total);
      assert.ok(result.requests > 100, `${result.requests} requests`);
      assert.equal(result.errors.total, 0);
      assert.ok(result.latency_ms.p99 >= result.latency_ms.p50, JSON.stringify(result.latency_ms));
      assert.match(await Deno.readTextFile(`${results}/${html}`), /<canvas/);
      // The Job and its Pushgateway groups are gone.
      const jobs = await kube.batch.listNamespacedJob({ namespace: "cncfdemo" });
      assert.deepEqual(jobs.items.filter((j) => j.metadata?.name?.startsWith("wrk-")), []);
      // Prometheus scraped the run before its Pushgateway groups went: still visible there.
      assert.match(r.stderr, /scraped by Prometheus after \d+\.\ds/);
      const series = await query(
        kube,
        `max_over_time(wrk_requests_total{run_id="${result.id}"}[15m])`,
      );
      assert.equal(series.result.length, 2, JSON.stringify(series.result));
    });

    await t.step(
      "BOINC is the container's main process and stops within its grace period",
      async () => {
        const { paths } = await resolveBinaries(["kubectl"], { noBuild: true });
        const cmdline = await run(paths.kubectl, [
          "--kubeconfig",
          sb.kubeconfig,
          "-n",
          "cncfdemo",
          "exec",
          "deploy/boinc",
          "--",
          "cat",
          "/proc/1/cmdline",
        ]);
        assert.match(cmdline.stdout.replaceAll("\0", " "), /^boinc --dir \/var\/lib\/boinc/);
        const { items } = await kube.core.listNamespacedPod({
          namespace: "cncfdemo",
          labelSelector: "app.kubernetes.io/component=boinc",
        });
        const pod = items[0]!;
        // Two minutes of uptime with no restart (a client that exits is restarted as a new host).
        const running = pod.status?.containerStatuses?.[0]?.state?.running?.startedAt;
        assert.ok(running, `BOINC's container is not running: ${JSON.stringify(pod.status)}`);
        const since = new Date(running).getTime();
        let restarts = 0;
        await pollUntil(async () => {
          const now = await kube.core.readNamespacedPod({
            name: pod.metadata!.name!,
            namespace: "cncfdemo",
          });
          restarts = now.status?.containerStatuses?.[0]?.restartCount ?? 0;
          assert.equal(restarts, 0, "BOINC restarted");
          return Date.now() - since >= 120_000;
        }, {
          timeoutMs: 150_000,
          maxIntervalMs: 5_000,
          describe: () => `BOINC has not run 2 minutes (${restarts} restarts)`,
        });
        const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
        await kube.core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: "cncfdemo" });
        // Gone well before the kubelet would have to kill it at the end of the grace period.
        await watchUntil<V1Pod>(
          kube,
          {
            apiVersion: "v1",
            kind: "Pod",
            namespace: "cncfdemo",
            fieldSelector: `metadata.name=${pod.metadata!.name}`,
          },
          (ps) => ps.length === 0,
          {
            timeoutMs: grace * 1_000 - 5_000,
            describe: () => `BOINC did not stop within ${grace - 5} s of SIGTERM`,
          },
        );
      },
    );

    await t.step(
      "BOINC yields: scaling the foreground up makes the scheduler preempt it",
      async () => {
        const BOINC = "app.kubernetes.io/component=boinc";
        const runningPod = (p: V1Pod) =>
          p.status?.phase === "Running" && !p.metadata?.deletionTimestamp;
        // The replacement of the pod stopped above runs.
        const [boinc] = (await watchUntil<V1Pod>(
          kube,
          { apiVersion: "v1", kind: "Pod", namespace: "cncfdemo", labelSelector: BOINC },
          (ps) => ps.filter(runningPod).length === 1,
          {
            timeoutMs: 60_000,
            describe: (ps) => `BOINC pods: ${ps.map((p) => p.status?.phase).join(", ")}`,
          },
        )).filter(runningPod);
        // One more bench-target pod (100m each) than the idle CPU holds; all fit once BOINC yields.
        const cpu = (p: V1Pod) =>
          (p.spec?.containers ?? []).reduce(
            (n, c) => n + (parseQuantity(String(c.resources?.requests?.cpu ?? "0")) ?? 0),
            0,
          );
        const pods = (await kube.core.listPodForAllNamespaces()).items.filter((p) =>
          p.spec?.nodeName && !["Succeeded", "Failed"].includes(p.status?.phase ?? "")
        );
        const [node] = (await kube.core.listNode()).items;
        const free = parseQuantity(String(node!.status?.allocatable?.cpu))! -
          pods.reduce((n, p) => n + cpu(p), 0);
        const extra = Math.floor(free * 10 + 1e-6) + 1;
        assert.ok(extra * 0.1 <= free + cpu(boinc!), `free ${free} CPU, BOINC ${cpu(boinc!)}`);
        const want = 1 + extra;
        const scaled = await sb.task("rollout.ts", [
          ...OFFLINE,
          "--set",
          "grafana.enabled=false",
          "--set",
          `benchTarget.replicas=${want}`,
          "--timeout",
          "3m",
        ]);
        assert.equal(scaled.code, 0, scaled.stderr);
        const targets = await kube.core.listNamespacedPod({
          namespace: "cncfdemo",
          labelSelector: "app.kubernetes.io/name=bench-target",
        });
        assert.equal(targets.items.filter(runningPod).length, want, "every foreground pod runs");
        // The scheduler preempted the BOINC pod (its event says so), and its replacement waits.
        const events = await kube.core.listNamespacedEvent({
          namespace: "cncfdemo",
          fieldSelector: `involvedObject.name=${boinc!.metadata!.name},reason=Preempted`,
        });
        assert.equal(events.items.length, 1, "BOINC was preempted");
        await watchUntil<V1Pod>(
          kube,
          { apiVersion: "v1", kind: "Pod", namespace: "cncfdemo", labelSelector: BOINC },
          (ps) =>
            ps.length === 1 && ps[0]!.status?.phase === "Pending" &&
            (ps[0]!.status?.conditions ?? []).some((c) => c.reason === "Unschedulable"),
          {
            timeoutMs: 60_000,
            describe: (ps) => `BOINC pods: ${ps.map((p) => p.status?.phase).join(", ")}`,
          },
        );
        // The foreground scales back down: the background work resumes.
        const back = await sb.task("rollout.ts", [
          ...OFFLINE,
          "--set",
          "grafana.enabled=false",
          "--timeout",
          "3m",
        ]);
        assert.equal(back.code, 0, back.stderr);
        await watchUntil<V1Pod>(
          kube,
          { apiVersion: "v1", kind: "Pod", namespace: "cncfdemo", labelSelector: BOINC },
          (ps) => ps.filter(runningPod).length === 1,
          {
            timeoutMs: 90_000,
            describe: (ps) => `BOINC pods: ${ps.map((p) => p.status?.phase).join(", ")}`,
          },
        );
      },
    );

    await t.step(
      "an image the node cannot have is named in one line, long before the deadline",
      async () => {
        const r = await sb.task("rollout.ts", [
          ...OFFLINE.filter((a) => a !== "grafana.enabled=false"),
          "--set",
          "grafana.enabled=true",
          "--timeout",
          "30s",
        ]);
        assert.equal(r.code, 1, r.stderr);
        const last = r.stderr.trim().split("\n").at(-1)!;
        assert.match(last, /^error: Cannot pull \S*grafana\S* for component grafana \(/);
        assert.ok(last.includes(CATALOG.grafana.ref), last);
      },
    );
  });
});
