/** `deno task demo` end to end on a simulated cluster: bootstrap, rollout, the bench skipped with its reason. */
import assert from "node:assert/strict";
import { sandbox } from "./support/env.ts";

Deno.test("demo: bootstrap, rollout, benchmark skipped on simulated nodes with the reason", async () => {
  const sb = await sandbox();
  const name = `demo-${crypto.randomUUID().slice(0, 6)}`;
  try {
    const r = await sb.task("demo.ts", ["--name", name, "--nodes", "2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Rollout complete: 49 created, 0 configured, 0 pruned, 0 unchanged\./);
    assert.match(
      r.stderr,
      /Benchmark skipped: context sim-demo-\w+ is a simulated cluster: its 2 nodes are simulated by kwok and run no containers\./,
    );
    assert.match(r.stderr, /Grafana: .* port-forward svc\/grafana 3000/);
    // one origin for Countly in the browser: the router, not the dashboard alone
    assert.match(
      r.stderr,
      /Countly: +kubectl --context sim-demo-\w+ -n cncfdemo port-forward svc\/countly 8080:80 +→ http:\/\/127\.0\.0\.1:8080\/ \(dashboard; \/i and \/o go to the API\)/,
    );
    assert.doesNotMatch(r.stderr, /port-forward svc\/countly-dashboard/);
    assert.match(
      r.stderr,
      new RegExp(`Tear down: +deno task teardown --provider sim --name ${name}`),
    );
    // running the demo again (naming the provider) converges: the same cluster, nothing changed
    const again = await sb.task("demo.ts", ["--provider", "sim", "--name", name, "--nodes", "2"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /reused the existing cluster/);
    assert.match(again.stderr, /Nothing changed: all 49 objects unchanged\./);
  } finally {
    const down = await sb.task("teardown.ts", ["--provider", "sim", "--name", name]);
    await sb.cleanup();
    assert.equal(down.code, 0, down.stderr);
  }
});

Deno.test("demo: --provider aws, --context with --provider, and bootstrap flags with --context are refused in one line", async () => {
  const sb = await sandbox();
  try {
    const cases: [string[], string][] = [
      [
        ["--provider", "aws"],
        "error: deno task demo --provider aws is not supported: create the cluster with deno task bootstrap:aws (it needs --api-cidr and AWS credentials), then run deno task demo --context aws-<name>\n",
      ],
      [
        ["--context", "kind-kind", "--provider", "sim"],
        "error: Pass --context (run on an existing cluster) or --provider (bootstrap one), not both: --context kind-kind --provider sim\n",
      ],
      [
        ["--context", "kind-kind", "--nodes", "2"],
        "error: --nodes sets up a new cluster; --context kind-kind uses an existing one: drop --nodes\n",
      ],
      [
        ["--provider", "sim", "--set", "countly.enabled=false"],
        "error: mongo.enabled=true serves only Countly, which is off (countly.enabled=false): switch MongoDB off too (--set mongo.enabled=false)\n",
      ],
    ];
    for (const [args, error] of cases) {
      const r = await sb.task("demo.ts", args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, error);
    }
    // nothing was bootstrapped, nothing written
    await assert.rejects(Deno.stat(`${sb.dir}/state`), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(sb.kubeconfig), Deno.errors.NotFound);
  } finally {
    await sb.cleanup();
  }
});
