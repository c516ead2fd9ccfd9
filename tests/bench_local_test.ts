/**
 * `deno task bench --local` end to end: Debian's wrk running images/wrk/bench.lua against nginx
 * on 127.0.0.1, results pushed to Debian's prometheus-pushgateway and read back from it.
 */
import assert from "node:assert/strict";
import { log } from "../lib/log.ts";
import type { BenchResult } from "../lib/bench/result.ts";
import { parsePrometheusText } from "../lib/bench/prometheus_text.ts";
import { sandbox } from "./support/env.ts";
import { startNginx, startPushgateway } from "./support/servers.ts";

/** The nearest-rank percentile of raw samples: sort them, index — no histogram code involved. */
function samplePercentile(sorted: Float64Array, p: number): number {
  const rank = Math.max(1, Math.ceil(Number(((p / 100) * sorted.length).toFixed(9))));
  return sorted[rank - 1]!;
}

function expand(histograms: ReadonlyArray<ReadonlyArray<readonly [number, number]>>): Float64Array {
  const n = histograms.flat().reduce((s, [, c]) => s + c, 0);
  const out = new Float64Array(n);
  let i = 0;
  for (const h of histograms) for (const [v, c] of h) out.fill(v, i, i += c);
  return out.sort();
}

async function pushgatewayCounter(url: string, handler: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return parsePrometheusText(text)
    .filter((s) => s.name === "pushgateway_http_requests_total" && s.labels.handler === handler)
    .reduce((n, s) => n + s.value, 0);
}

Deno.test("bench --local: 3 generators through a real Pushgateway, merged exactly", async () => {
  const sb = await sandbox();
  const nginx = await startNginx();
  const pg = await startPushgateway();
  try {
    const results = `${sb.dir}/results`;
    const pushesBefore = await pushgatewayCounter(pg.url, "push");
    const r = await sb.task("bench.ts", [
      "--local",
      "--url",
      nginx.url,
      "--time",
      "2s",
      "--connections",
      "8",
      "--threads",
      "2",
      "--parallelism",
      "3",
      "--pushgateway",
      pg.url,
      "--results-dir",
      results,
    ], { WRK_HISTOGRAM_CHECK: "1" });
    assert.equal(r.code, 0, r.stderr);
    const path = r.stdout.trim();
    assert.match(path, new RegExp(`^${results}/\\d{8}-\\d{6}-[0-9a-f]{4}\\.json$`));
    assert.match(r.stderr, /elapsed \ds, remaining ~\ds/);
    const res = JSON.parse(await Deno.readTextFile(path)) as BenchResult;

    // The document has what the issue asks for.
    assert.equal(res.model, "local");
    assert.equal(res.target, nginx.url);
    assert.deepEqual(
      { ...res.params },
      {
        duration_s: 2,
        connections: 8,
        threads: 2,
        parallelism: 3,
        request_timeout_s: 2,
        status_counts: false,
      },
    );
    assert.equal(path.endsWith(`${res.id}.json`), true);
    assert.ok(Date.parse(res.started_at) < Date.parse(res.ended_at));
    assert.deepEqual(Object.keys(res.errors).sort(), [
      "connect",
      "read",
      "status",
      "timeout",
      "total",
      "write",
    ]);
    assert.equal(res.errors.total, 0);
    assert.equal(res.host?.cpus, navigator.hardwareConcurrency);
    assert.equal(res.pushgateway, pg.url);
    assert.equal(res.generators.length, 3);
    assert.deepEqual(res.generators.map((g) => g.generator), ["g0", "g1", "g2"]);

    // Counters summed, min/max taken, throughput the sum of the generators' rates.
    assert.equal(res.requests, res.generators.reduce((n, g) => n + g.requests, 0));
    assert.equal(res.bytes, res.generators.reduce((n, g) => n + g.bytes, 0));
    assert.ok(res.requests > 0);
    const rates = res.generators.reduce((n, g) => n + g.requests / g.duration_s, 0);
    assert.ok(Math.abs(res.rps - rates) < 1e-6 * rates);
    assert.equal(res.latency_ms.min, Math.min(...res.generators.map((g) => g.latency_ms.min!)));
    assert.equal(res.latency_ms.max, Math.max(...res.generators.map((g) => g.latency_ms.max!)));

    for (const g of res.generators) {
      // The Lua script read wrk's whole distribution: both ways of reading it agree, and the
      // mean of the distribution is the mean wrk itself computed over all its samples.
      assert.equal(g.histogram_check, "equal", `${g.generator}: ${g.histogram_source}`);
      const total = g.histogram.reduce((n, [, c]) => n + c, 0);
      const mean = g.histogram.reduce((s, [v, c]) => s + v * c, 0) / total;
      assert.ok(Math.abs(mean - g.wrk_latency_us.mean!) < 1e-4 * g.wrk_latency_us.mean!);
      assert.equal(total, g.latency_ms.count);
    }

    // Exact merge: the merged percentiles are those of the union of the recorded samples.
    const union = expand(res.generators.map((g) => g.histogram));
    assert.equal(res.latency_ms.count, union.length);
    for (const [key, p] of [["p50", 50], ["p90", 90], ["p99", 99], ["p99_9", 99.9]] as const) {
      assert.equal(res.latency_ms[key], samplePercentile(union, p) / 1_000, key);
    }
    const avgP99 = res.generators.reduce((s, g) => s + g.latency_ms.p99!, 0) / 3;
    log.info(
      `exact p99 ${res.latency_ms.p99} ms; mean of generator p99s ${avgP99.toFixed(3)} ms (${
        ((100 * (avgP99 - res.latency_ms.p99!)) / res.latency_ms.p99!).toFixed(2)
      }% off)`,
    );

    // The Pushgateway received the three pushes, and the groups are gone afterwards.
    assert.equal((await pushgatewayCounter(pg.url, "push")) - pushesBefore, 3);
    const left = parsePrometheusText(await (await fetch(`${pg.url}/metrics`)).text())
      .filter((s) => s.labels.run_id !== undefined);
    assert.deepEqual(left, []);
  } finally {
    await pg.stop();
    await nginx.stop();
    await sb.cleanup();
  }
});

Deno.test("bench --local --status-counts: HTTP errors counted by class and by status", async () => {
  const sb = await sandbox();
  const nginx = await startNginx();
  try {
    const r = await sb.task("bench.ts", [
      "--local",
      "--url",
      `${nginx.url}missing`,
      "--time",
      "1s",
      "--connections",
      "2",
      "--threads",
      "1",
      "--status-counts",
      "--results-dir",
      `${sb.dir}/results`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(await Deno.readTextFile(r.stdout.trim())) as BenchResult;
    assert.ok(res.requests > 0);
    assert.equal(res.errors.status, res.requests);
    assert.deepEqual(res.status_counts, { "404": res.requests });
    assert.equal(res.pushgateway, null);
  } finally {
    await nginx.stop();
    await sb.cleanup();
  }
});
