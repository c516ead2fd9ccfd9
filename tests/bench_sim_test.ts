/**
 * bench against a real simulated cluster (control plane on 127.0.0.1, kwok nodes): it refuses in
 * one line, since kwok nodes run no containers, and so does `deno task experiment`; the node rule matches real kwok nodes; and the
 * wrk Job it would create is accepted by the real API server (server-side dry run).
 */
import assert from "node:assert/strict";
import { canRunContainers } from "../lib/bench/can_run_containers.ts";
import { isSimulatedNode, readClusterFacts } from "../lib/bench/cluster_facts.ts";
import { jobName, wrkJob } from "../lib/bench/cluster_runner.ts";
import { connectKube } from "../lib/kube/client.ts";
import { exists } from "../lib/paths.ts";
import { sandbox } from "./support/env.ts";

Deno.test("bench on a simulated cluster: one-line refusal, no result; the Job is valid", async (t) => {
  const sb = await sandbox();
  const name = `bench-${crypto.randomUUID().slice(0, 6)}`;
  const context = `sim-${name}`;
  try {
    const up = await sb.task("bootstrap_sim.ts", ["--name", name, "--nodes", "2"]);
    assert.equal(up.code, 0, up.stderr);

    await t.step("bench refuses: kwok nodes run no containers", async () => {
      const results = `${sb.dir}/results`;
      const r = await sb.task("bench.ts", [
        "--context",
        context,
        "--time",
        "1s",
        "--results-dir",
        results,
        "--save-html",
      ]);
      assert.equal(r.code, 1, r.stderr);
      const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
      assert.deepEqual(errors, [
        `error: Cannot benchmark in the cluster: context ${context} is a simulated cluster: its 2 nodes are simulated by kwok and run no containers; run "deno task bench --local --url URL" against a server instead`,
      ]);
      assert.equal(r.stdout, "");
      assert.equal(await exists(results), false);
    });

    await t.step("experiment refuses too, in one line, and writes nothing", async () => {
      const results = `${sb.dir}/results`;
      const r = await sb.task("experiment.ts", [
        "chaos",
        "--context",
        context,
        "--results-dir",
        results,
        "--save-html",
      ]);
      assert.equal(r.code, 1, r.stderr);
      const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
      assert.deepEqual(errors, [
        `error: Cannot run an experiment here: context ${context} is a simulated cluster: its 2 nodes are simulated by kwok and run no containers; experiments need a cluster that runs containers (e.g. bootstrap:local)`,
      ]);
      assert.equal(r.stdout, "");
      assert.equal(await exists(results), false);
    });

    const kube = await connectKube({ kubeconfig: sb.kubeconfig, context });

    await t.step("the simulated-node rule matches kwok's nodes; facts are read", async () => {
      const nodes = (await kube.core.listNode()).items;
      assert.equal(nodes.length, 2);
      assert.ok(nodes.every(isSimulatedNode));
      const cap = await canRunContainers(kube);
      assert.deepEqual({ ok: cap.ok, nodes: cap.nodes, simulated: cap.simulated }, {
        ok: false,
        nodes: 2,
        simulated: 2,
      });
      const facts = await readClusterFacts(kube);
      assert.equal(facts.model, "sim");
      assert.equal(facts.nodes, 2);
      assert.match(facts.kubernetes_version ?? "", /^v1\.\d+\.\d+/);
    });

    await t.step("the wrk Job passes the API server's validation (dry run)", async () => {
      await kube.core.createNamespace({ body: { metadata: { name: "cncfdemo" } } });
      const base = {
        runId: "20261124-101010-abcd",
        namespace: "cncfdemo",
        image: "ghcr.io/cncfdemo/wrk:0.1.0",
        parallelism: 3,
        durationS: 30,
        connections: 64,
        threads: 2,
        requestTimeoutS: 2,
        statusCounts: false,
        pushgatewayUrl: "http://pushgateway.monitoring:9091",
        deadlineS: 390,
      };
      for (const url of [undefined, "http://example.cncfdemo:8080/"]) {
        const job = wrkJob({ ...base, url });
        const created = await kube.batch.createNamespacedJob({
          namespace: "cncfdemo",
          body: job,
          dryRun: "All",
        });
        assert.equal(created.metadata?.name, jobName(base.runId));
        assert.equal(created.spec?.completionMode, "Indexed");
        assert.equal(created.metadata?.labels?.["app.kubernetes.io/component"], "wrk");
        const env = created.spec?.template.spec?.containers[0]?.env ?? [];
        if (url === undefined) {
          assert.deepEqual(
            { ...env.find((e) => e.name === "COUNTLY_APP_KEY")?.valueFrom?.secretKeyRef },
            { name: "countly", key: "app-key" },
          );
        } else {
          assert.equal(env.find((e) => e.name === "WRK_URL")?.value, url);
        }
      }
      // a dry run creates nothing
      const jobs = await kube.batch.listNamespacedJob({ namespace: "cncfdemo" });
      assert.equal(jobs.items.length, 0);
    });
  } finally {
    const down = await sb.task("teardown.ts", ["--provider", "sim", "--name", name]);
    await sb.cleanup();
    assert.equal(down.code, 0, down.stderr);
  }
});
