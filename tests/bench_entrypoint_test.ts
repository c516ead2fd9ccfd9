/**
 * The wrk image's entrypoint, run here as the container would run it (no Docker engine on this
 * machine): Debian's wrk + the image's Lua script against nginx, the result pushed to Debian's
 * Pushgateway under the run id and generator, the JSON printed, the app key never logged.
 */
import assert from "node:assert/strict";
import { resultFromLog } from "../lib/bench/cluster_runner.ts";
import { bucketize } from "../lib/bench/latency_buckets.ts";
import { pushedDifference } from "../lib/bench/prometheus_text.ts";
import { Pushgateway } from "../lib/bench/pushgateway.ts";
import { parseWrkResult } from "../lib/bench/wrk_result.ts";
import { startNginx, startPushgateway } from "./support/servers.ts";

const IMAGE = new URL("../images/wrk/", import.meta.url).pathname;

Deno.test("images/wrk/entrypoint.sh: runs wrk, pushes to the Pushgateway, prints the JSON", async () => {
  const nginx = await startNginx();
  const pg = await startPushgateway();
  const out = await Deno.makeTempDir({ prefix: "cncfdemo-wrk-out-" });
  try {
    const r = await new Deno.Command("bash", {
      args: [`${IMAGE}entrypoint.sh`],
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        WRK_URL: `${nginx.url}?app_key=s3cr3t-key&device_id=wrk-test-1`,
        WRK_RUN_ID: "entrypoint-test",
        WRK_INDEX: "1",
        WRK_DURATION: "1s",
        WRK_CONNECTIONS: "4",
        WRK_THREADS: "1",
        PUSHGATEWAY_URL: pg.url,
        WRK_SCRIPT: `${IMAGE}bench.lua`,
        WRK_OUT_DIR: out,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(r.stdout);
    const stderr = new TextDecoder().decode(r.stderr);
    assert.equal(r.code, 0, stderr);
    const printed = parseWrkResult(stdout, "entrypoint stdout");
    assert.equal(printed.generator, "g1");
    assert.equal(printed.runId, "entrypoint-test");
    assert.ok(printed.requests > 0);
    assert.match(stderr, /app_key=<redacted>/);
    assert.doesNotMatch(stdout + stderr, /s3cr3t/);

    const gw = Pushgateway.at(pg.url);
    const pushed = await gw.collect("entrypoint-test");
    assert.deepEqual([...pushed.keys()], ["g1"]);
    // the Pushgateway holds the bounded histogram of the exact distribution printed
    assert.deepEqual(pushed.get("g1")!.buckets, bucketize(printed.histogram));
    assert.equal(pushedDifference(pushed.get("g1")!, printed), undefined);
    assert.equal(pushed.get("g1")!.requests, printed.requests);
    // the printed JSON is the last line of the output, as the bench reads it from the pod's log
    const log = stderr + stdout;
    assert.deepEqual(resultFromLog(log, "entrypoint").histogram, printed.histogram);
    assert.equal(await gw.deleteRun("entrypoint-test", ["g1"]), 1);
    assert.equal((await gw.collect("entrypoint-test")).size, 0);
  } finally {
    await Deno.remove(out, { recursive: true }).catch(() => {});
    await pg.stop();
    await nginx.stop();
  }
});

Deno.test("images/wrk/entrypoint.sh: a Pushgateway that refuses makes the generator fail", async () => {
  const nginx = await startNginx();
  const out = await Deno.makeTempDir({ prefix: "cncfdemo-wrk-out-" });
  try {
    const r = await new Deno.Command("bash", {
      args: [`${IMAGE}entrypoint.sh`],
      env: {
        WRK_URL: nginx.url,
        WRK_RUN_ID: "x",
        WRK_DURATION: "1s",
        WRK_CONNECTIONS: "1",
        WRK_THREADS: "1",
        // a port nothing listens on; curl retries, then fails
        PUSHGATEWAY_URL: "http://127.0.0.1:9",
        WRK_SCRIPT: `${IMAGE}bench.lua`,
        WRK_OUT_DIR: out,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.notEqual(r.code, 0);
    assert.equal(new TextDecoder().decode(r.stdout), "");
  } finally {
    await Deno.remove(out, { recursive: true }).catch(() => {});
    await nginx.stop();
  }
});
