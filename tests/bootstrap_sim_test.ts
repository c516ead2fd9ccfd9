/**
 * bootstrap:sim and teardown against the real thing: a control plane built from the pinned
 * Kubernetes and etcd, kwok nodes, read back through @kubernetes/client-node with the client
 * certificates bootstrap:sim merged into the kubeconfig.
 */
import assert from "node:assert/strict";
import type { V1Deployment, V1Job, V1Node } from "@kubernetes/client-node";
import { parse } from "yaml";
import { connectKube } from "../lib/kube/client.ts";
import { watchUntil } from "../lib/kube/watch.ts";
import { processesMentioning } from "../lib/stop_processes.ts";
import { run } from "../lib/run_program.ts";
import { type Sandbox, sandbox } from "./support/env.ts";

const LABELS = { "app.kubernetes.io/part-of": "cncfdemo-test" };

/** Runs `teardown --provider sim` and checks that no process, state or kubeconfig entry is left. */
async function tearDownAndCheckGone(sb: Sandbox, name: string, stateDir: string): Promise<void> {
  const down = await sb.task("teardown.ts", ["--provider", "sim", "--name", name]);
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(await processesMentioning(stateDir), []);
  await assert.rejects(Deno.stat(stateDir), Deno.errors.NotFound);
  // deno-lint-ignore no-explicit-any
  const doc = parse(await Deno.readTextFile(sb.kubeconfig)) as any;
  assert.deepEqual(doc.contexts, []);
  assert.deepEqual(doc.clusters, []);
  assert.deepEqual(doc.users, []);
}

Deno.test("bootstrap:sim → 3 Ready nodes, a Deployment and a Job run, teardown leaves nothing", async (t) => {
  const sb = await sandbox();
  const name = `it-${crypto.randomUUID().slice(0, 6)}`;
  const stateDir = `${sb.env.CNCFDEMO_STATE_DIR}/kwok/clusters/${name}`;
  try {
    const up = await sb.task("bootstrap_sim.ts", ["--name", name, "--nodes", "3"]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /✓ Wait for nodes Ready .* 3 Ready/);
    assert.match(up.stderr, /Timeline \(total/);

    await t.step(
      "the kubeconfig carries client certificates and the context is current",
      async () => {
        // deno-lint-ignore no-explicit-any
        const doc = parse(await Deno.readTextFile(sb.kubeconfig)) as any;
        assert.equal(doc["current-context"], `sim-${name}`);
        const user = doc.users.find((u: { name: string }) => u.name === `sim-${name}`).user;
        assert.ok(
          user["client-certificate-data"] && user["client-key-data"],
          "client certificate inline",
        );
        assert.equal(user.token, undefined);
        assert.match(doc.clusters[0].cluster.server, /^https:\/\/127\.0\.0\.1:\d+$/);
      },
    );

    const kube = await connectKube({ kubeconfig: sb.kubeconfig });

    await t.step(
      "three Ready nodes with the requested capacity, read through client-node",
      async () => {
        const { items } = await kube.core.listNode();
        assert.equal(items.length, 3);
        for (const n of items) {
          assert.ok(
            n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
            n.metadata?.name,
          );
          assert.equal(n.status?.allocatable?.cpu, "8");
          assert.equal(n.status?.allocatable?.memory, "32Gi");
          assert.equal(n.status?.allocatable?.pods, "110");
        }
      },
    );

    await t.step("every control-plane process listens on loopback only", async () => {
      const pids = new Set(await processesMentioning(stateDir));
      assert.ok(pids.size >= 5, `found ${pids.size} processes`);
      const ss = await run("ss", ["-Hltnp"]);
      const mine = ss.stdout.split("\n").filter((l) =>
        [...pids].some((p) => l.includes(`pid=${p},`))
      );
      assert.ok(mine.length >= 4, ss.stdout);
      for (const line of mine) assert.match(line.split(/\s+/)[3]!, /^127\.0\.0\.1:\d+$/, line);
    });

    await t.step("a 3-replica Deployment becomes Available", async () => {
      const ns = "default";
      await kube.apps.createNamespacedDeployment({
        namespace: ns,
        body: {
          metadata: { name: "web", labels: LABELS },
          spec: {
            replicas: 3,
            selector: { matchLabels: { app: "web" } },
            template: {
              metadata: { labels: { app: "web" } },
              spec: { containers: [{ name: "web", image: "nginx:1.27" }] },
            },
          },
        },
      });
      const [d] = await watchUntil<V1Deployment>(
        kube,
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          namespace: ns,
          fieldSelector: "metadata.name=web",
        },
        (ds) => ds[0]?.status?.availableReplicas === 3,
        {
          timeoutMs: 60_000,
          describe: (ds) => `web: ${ds[0]?.status?.availableReplicas ?? 0}/3 available`,
        },
      );
      assert.ok(d?.status?.conditions?.some((c) => c.type === "Available" && c.status === "True"));
    });

    await t.step("a Job completes", async () => {
      await kube.batch.createNamespacedJob({
        namespace: "default",
        body: {
          metadata: { name: "once", labels: LABELS },
          spec: {
            template: {
              spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] },
            },
          },
        },
      });
      const [j] = await watchUntil<V1Job>(
        kube,
        {
          apiVersion: "batch/v1",
          kind: "Job",
          namespace: "default",
          fieldSelector: "metadata.name=once",
        },
        (js) =>
          js[0]?.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True") ??
            false,
        { timeoutMs: 60_000, describe: () => "job once did not complete" },
      );
      assert.equal(j?.status?.succeeded, 1);
    });

    await t.step("re-running reuses the cluster and reconciles the node count", async () => {
      const again = await sb.task("bootstrap_sim.ts", ["--name", name, "--nodes", "3"]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /reused the existing cluster/);
      assert.match(again.stderr, /✓ Scale to 3 nodes \(.*\) — unchanged/);
      const five = await sb.task("bootstrap_sim.ts", ["--name", name, "--nodes", "5"]);
      assert.equal(five.code, 0, five.stderr);
      assert.match(five.stderr, /— 3 → 5/);
      const nodes = await watchUntil<V1Node>(
        kube,
        { apiVersion: "v1", kind: "Node" },
        (ns) => ns.length === 5,
        {
          timeoutMs: 30_000,
          describe: (ns) => `${ns.length} nodes`,
        },
      );
      assert.equal(nodes.length, 5);
      // the Deployment survived the re-run
      const d = await kube.apps.readNamespacedDeployment({ name: "web", namespace: "default" });
      assert.equal(d.status?.availableReplicas, 3);
    });

    await t.step(
      "teardown stops every process, removes the state and the context; twice is fine",
      async () => {
        await tearDownAndCheckGone(sb, name, stateDir);
        const twice = await sb.task("teardown.ts", ["--provider", "sim", "--name", name]);
        assert.equal(twice.code, 0, twice.stderr);
        assert.match(twice.stderr, /nothing to delete/);
        assert.match(twice.stderr, /not present/);
      },
    );
  } finally {
    await sb.task("teardown.ts", ["--provider", "sim", "--name", name]);
    await sb.cleanup();
  }
});

Deno.test("bootstrap:sim refuses bad input with one line and creates nothing", async () => {
  const sb = await sandbox();
  try {
    const cases: [string[], RegExp][] = [
      [
        ["--nodes", "0"],
        /^error: Cannot parse --nodes "0": expected a whole number from 1 to 5000$/,
      ],
      [
        ["--nodes", "abc"],
        /^error: Cannot parse --nodes "abc": expected a whole number from 1 to 5000$/,
      ],
      [
        ["--bogus"],
        /^error: Unknown flag --bogus for deno task bootstrap:sim: see --help for the flags it takes$/,
      ],
      [
        ["--kubeconfig", sb.dir],
        /^error: Cannot read kubeconfig .*: it is a directory, not a file$/,
      ],
      [
        ["--node-memory", "lots"],
        /^error: Cannot parse --node-memory "lots": expected a positive quantity/,
      ],
      [
        ["--name", "Bad_Name"],
        /^error: Cannot parse --name "Bad_Name": expected lowercase letters/,
      ],
    ];
    for (const [args, expected] of cases) {
      const r = await sb.task("bootstrap_sim.ts", args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, expected);
    }
    await Deno.writeTextFile(`${sb.dir}/broken`, "clusters: [");
    const broken = await sb.task("bootstrap_sim.ts", ["--kubeconfig", `${sb.dir}/broken`]);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /^error: Cannot parse kubeconfig .*broken/);
    // nothing was created: no state directory, no kubeconfig
    await assert.rejects(Deno.stat(sb.env.CNCFDEMO_STATE_DIR!), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(sb.kubeconfig), Deno.errors.NotFound);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("teardown without --provider is a usage error", async () => {
  const sb = await sandbox();
  try {
    const r = await sb.task("teardown.ts", []);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      "error: Nothing to tear down: pass --apps, or --provider sim|local|aws (see --help)\n",
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a bootstrap that fails half-way leaves nothing teardown does not find", async () => {
  const sb = await sandbox();
  const name = `broken-${crypto.randomUUID().slice(0, 6)}`;
  const stateDir = `${sb.env.CNCFDEMO_STATE_DIR}/kwok/clusters/${name}`;
  const etcd = new URL("../testdata/sim/etcd-that-dies.sh", import.meta.url).pathname;
  try {
    const up = await sb.task("bootstrap_sim.ts", ["--name", name, "--timeout", "10s"], {
      CNCFDEMO_ETCD_BINARY: etcd,
    });
    assert.equal(up.code, 1);
    const last = up.stderr.trim().split("\n").at(-1)!;
    assert.match(
      last,
      /^error: The API server at https:\/\/127\.0\.0\.1:\d+ did not answer within 10\.0s; its logs are in /,
    );
    // it left processes, state and a context behind …
    assert.ok((await processesMentioning(stateDir)).length > 0, "some control-plane processes run");
    await Deno.stat(stateDir);
    // … and teardown finds all of them
    await tearDownAndCheckGone(sb, name, stateDir);
  } finally {
    await sb.task("teardown.ts", ["--provider", "sim", "--name", name]);
    await sb.cleanup();
  }
});
