import assert from "node:assert/strict";
import { generatorsFromMetrics, parsePrometheusText } from "./prometheus_text.ts";
import { parseWrkResult } from "./wrk_result.ts";

const data = (name: string) =>
  Deno.readTextFileSync(new URL(`../../testdata/bench/${name}`, import.meta.url));

// Fixtures: one real wrk run through images/wrk/bench.lua (JSON and Prometheus text), and the
// /metrics page of Debian's prometheus-pushgateway after that text was pushed to it.
Deno.test("a result read back from the Pushgateway equals the JSON wrk wrote", () => {
  const json = parseWrkResult(data("wrk_g0.json"), "fixture");
  const back = generatorsFromMetrics(data("pushgateway_metrics.txt"), "fixture-run", json.target);
  assert.deepEqual([...back.keys()], ["g0"]);
  const g = back.get("g0")!;
  // the Pushgateway re-formats bucket bounds (e.g. 1.1e-05): the distribution survives exactly
  assert.ok(data("pushgateway_metrics.txt").includes('le="1.1e-05"'));
  assert.deepEqual(g.histogram, json.histogram);
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

Deno.test("other runs' groups are ignored", () => {
  assert.equal(generatorsFromMetrics(data("pushgateway_metrics.txt"), "other-run", "x").size, 0);
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
