/**
 * `deno task demo --provider local` end to end on this machine: a real node, the stack with the
 * components an offline node cannot have switched off (each said why), the in-cluster benchmark
 * against the bench target, where each part lives; then teardown leaves the host as it was.
 * Needs Linux and root (CI runs as root); skipped otherwise.
 */
import assert from "node:assert/strict";
import { canRunLocal, holdRealNode } from "./support/local_cluster.ts";
import { hostSnapshot } from "./support/host_snapshot.ts";
import { sandbox } from "./support/env.ts";

Deno.test({
  name: "demo --provider local: real node, offline components off with reasons, in-cluster bench",
  ignore: !canRunLocal,
}, async () => {
  using _node = await holdRealNode();
  const sb = await sandbox();
  const name = `ld${crypto.randomUUID().slice(0, 6)}`;
  const stateDir = `${sb.env.CNCFDEMO_STATE_DIR}/local/${name}`;
  const before = await hostSnapshot(stateDir);
  try {
    const r = await sb.task("demo.ts", [
      "--provider",
      "local",
      "--name",
      name,
      "--images",
      "offline",
      "--set",
      "boinc.enabled=false",
      "--results-dir",
      `${sb.dir}/results`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /grafana: off — docker\.io\/grafana\/grafana:\S+ is not on the node and the cluster is offline/,
    );
    assert.match(r.stderr, /mongo-config, mongo-shard, mongos, mongo-init: off — /);
    assert.match(r.stderr, /countly-api, countly-dashboard: off — /);
    assert.match(r.stderr, /Rollout complete: \d+ created/);
    assert.match(r.stderr, /✓ +Run 1 generator for \d+s \(.*\) — [\d,]+ requests/);
    const result = /Benchmark result: (\S+\.json)/.exec(r.stderr)?.[1];
    assert.ok(result?.startsWith(`${sb.dir}/results/`), r.stderr);
    const json = JSON.parse(await Deno.readTextFile(result!));
    assert.equal(json.model, "local");
    assert.ok(json.requests > 0 && json.errors.total === 0, JSON.stringify(json.errors));
    assert.match(r.stderr, /Bench target: +http:\/\/bench-target\.cncfdemo\//);
    assert.match(
      r.stderr,
      new RegExp(`Tear down: +deno task teardown --provider local --name ${name}`),
    );
  } finally {
    const down = await sb.task("teardown.ts", ["--provider", "local", "--name", name]);
    await sb.cleanup();
    assert.equal(down.code, 0, down.stderr);
  }
  assert.deepEqual(await hostSnapshot(stateDir), before);
});
