import assert from "node:assert/strict";
import { bucketize, LATENCY_BUCKETS_US } from "./latency_buckets.ts";
import { generatorsFromMetrics, parsePrometheusText, pushedDifference } from "./prometheus_text.ts";
import { parseWrkResult } from "./wrk_result.ts";

const data = (name: string) =>
  Deno.readTextFileSync(new URL(`../../testdata/bench/${name}`, import.meta.url));

// Fixtures: one real wrk run through images/wrk/bench.lua (JSON and Prometheus text), and the
// /metrics page of Debian's prometheus-pushgateway after that text was pushed to it.
Deno.test("a result read back from the Pushgateway agrees with the JSON wrk wrote", () => {
  const json = parseWrkResult(data("wrk_g0.json"), "fixture");
  const back = generatorsFromMetrics(data("pushgateway_metrics.txt"), "fixture-run");
  assert.deepEqual([...back.keys()], ["g0"]);
  const g = back.get("g0")!;
  // the Pushgateway re-formats bucket bounds (e.g. 1.5e-05): they come back as microseconds
  assert.ok(data("pushgateway_metrics.txt").includes('le="1.5e-05"'));
  assert.deepEqual(g.buckets, bucketize(json.histogram));
  assert.equal(pushedDifference(g, json), undefined);
  assert.equal(g.requests, json.requests);
  assert.equal(g.bytes, json.bytes);
  assert.equal(g.durationUs, json.durationUs);
  assert.deepEqual(g.errors, json.errors);
  assert.deepEqual(g.statusCounts, json.statusCounts);
  assert.equal(g.latencyUs.min, json.latencyUs.min);
  assert.equal(g.latencyUs.max, json.latencyUs.max);
  assert.equal(g.latencyUs.count, json.latencyUs.count);
  assert.ok(Math.abs(g.latencyUs.mean! - json.latencyUs.mean!) < 1e-3);
});

Deno.test("the pushed latency histogram is bounded: the same buckets whatever the distribution", () => {
  const prom = data("wrk_g0.prom");
  const json = parseWrkResult(data("wrk_g0.json"), "fixture");
  const buckets = prom.split("\n").filter((l) => l.startsWith("wrk_latency_seconds_bucket"));
  assert.equal(buckets.length, LATENCY_BUCKETS_US.length + 1);
  assert.ok(json.histogram.length > buckets.length, "far fewer series than recorded values");
  // and every series of the group is bounded too
  const series = prom.split("\n").filter((l) => l && !l.startsWith("#"));
  assert.ok(series.length < 60, `${series.length} series`);
});

Deno.test("pushedDifference names what differs", () => {
  const json = parseWrkResult(data("wrk_g0.json"), "fixture");
  const g = generatorsFromMetrics(data("pushgateway_metrics.txt"), "fixture-run").get("g0")!;
  assert.equal(
    pushedDifference({ ...g, requests: g.requests + 1 }, json),
    `requests ${g.requests + 1} on the Pushgateway, ${json.requests} in the result`,
  );
  const moved: [number, number][] = json.histogram.map(([v, c]) => [v + 1_000_000, c]);
  assert.match(
    pushedDifference(g, { ...json, histogram: moved })!,
    /^latency bucket le=\d+µs holds \d+ on the Pushgateway, 0 in the result$/,
  );
});

Deno.test("other runs' groups are ignored", () => {
  assert.equal(generatorsFromMetrics(data("pushgateway_metrics.txt"), "other-run").size, 0);
});

Deno.test("bench.lua pushes the buckets of lib/bench/latency_buckets.ts", () => {
  const lua = Deno.readTextFileSync(new URL("../../images/wrk/bench.lua", import.meta.url));
  const list = /local LATENCY_BUCKETS_US = \{([^}]*)\}/.exec(lua)![1]!;
  assert.deepEqual(list.split(",").map((x) => x.trim()).filter(Boolean).map(Number), [
    ...LATENCY_BUCKETS_US,
  ]);
});

Deno.test("parsePrometheusText reads labels with escapes and special values", () => {
  const s = parsePrometheusText(
    '# HELP x y\nm{a="q\\"x",le="+Inf"} 3\nn 1.5e-3 1700000000\nk{} +Inf\n',
  );
  assert.deepEqual(s, [
    { name: "m", labels: { a: 'q"x', le: "+Inf" }, value: 3 },
    { name: "n", labels: {}, value: 0.0015 },
    { name: "k", labels: {}, value: Infinity },
  ]);
});
