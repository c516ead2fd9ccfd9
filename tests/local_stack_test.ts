/**
 * The stack on a real node (bootstrap:local, images built here): the monitoring track and the
 * bench target roll out and run; `deno task bench` runs in the cluster end to end for the first
 * time (an Indexed Job of 2 wrk pods against the bench target, results pushed to the in-cluster
 * Pushgateway and read back, merged, written as JSON and HTML); an image the node cannot have is
 * named in one line long before the rollout's deadline.
 */
import assert from "node:assert/strict";
import { CATALOG } from "../lib/images/catalog.ts";
import { canRunLocal, withLocalCluster } from "./support/local_cluster.ts";

/** What an offline node can run: MongoDB, Countly and Grafana cannot be had here. */
const OFFLINE = [
  "mongo.enabled=false",
  "countly.enabled=false",
  "benchTarget.enabled=true",
  // BOINC fills idle CPU; here it would only delay the second generator until it is preempted.
  "boinc.enabled=false",
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
        ["cncfdemo", "bench-target"],
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
    });

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
