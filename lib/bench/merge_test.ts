import assert from "node:assert/strict";
import { mergeGenerators } from "./merge.ts";
import type { GeneratorResult } from "./wrk_result.ts";

function gen(
  name: string,
  durationUs: number,
  requests: number,
  histogram: [number, number][],
  errors = { connect: 0, read: 0, write: 0, status: 0, timeout: 0 },
): GeneratorResult {
  return {
    generator: name,
    runId: "r",
    target: "http://x/",
    durationUs,
    requests,
    bytes: requests * 100,
    errors,
    latencyUs: { min: null, mean: null, stdev: null, max: null, count: 0 },
    histogram,
  };
}

Deno.test("mergeGenerators: counters summed, rates added, latency from the merged distribution", () => {
  const m = mergeGenerators([
    gen("g10", 2_000_000, 100, [[1000, 60], [3000, 40]], {
      connect: 1,
      read: 2,
      write: 0,
      status: 5,
      timeout: 1,
    }),
    gen("g2", 1_000_000, 300, [[500, 290], [40000, 10]]),
  ]);
  assert.deepEqual(m.generators.map((g) => g.generator), ["g2", "g10"]); // numeric order
  assert.equal(m.requests, 400);
  assert.equal(m.duration_s, 2);
  assert.equal(m.rps, 100 / 2 + 300 / 1);
  assert.equal(m.bytes, 40_000);
  assert.deepEqual({ ...m.errors }, {
    connect: 1,
    read: 2,
    write: 0,
    status: 5,
    timeout: 1,
    total: 9,
  });
  assert.deepEqual(m.histogram, [[500, 290], [1000, 60], [3000, 40], [40000, 10]]);
  // 400 samples: p50 = rank 200 → 500 µs; p90 = rank 360 → 3000 µs; p99 = rank 396 → 40000 µs
  assert.equal(m.latency_ms.p50, 0.5);
  assert.equal(m.latency_ms.p90, 3);
  assert.equal(m.latency_ms.p99, 40);
  assert.equal(m.latency_ms.min, 0.5);
  assert.equal(m.latency_ms.max, 40);
  // the naive average of the generators' p99s (3 ms and 40 ms) would say 21.5 ms
  const naive = m.generators.reduce((s, g) => s + g.latency_ms.p99!, 0) / 2;
  assert.equal(naive, 21.5);
});

Deno.test("mergeGenerators: a generator without samples leaves min/max to the others", () => {
  const m = mergeGenerators([gen("g0", 1_000_000, 0, []), gen("g1", 1_000_000, 2, [[7, 2]])]);
  assert.equal(m.latency_ms.min, 0.007);
  assert.equal(m.latency_ms.max, 0.007);
  assert.equal(m.generators[0]!.latency_ms.p50, null);
});

Deno.test("resultJson keeps histograms on one line and round-trips", async () => {
  const { buildResult, resultJson } = await import("./result.ts");
  const merged = mergeGenerators([gen("g0", 1_000_000, 3, [[5, 1], [9, 2]])]);
  const r = buildResult({
    id: "x",
    startedAt: new Date(0),
    endedAt: new Date(1000),
    model: "local",
    target: "http://x/",
    params: {
      duration_s: 1,
      connections: 1,
      threads: 1,
      parallelism: 1,
      request_timeout_s: 2,
      status_counts: false,
    },
    merged,
    cluster: null,
    host: null,
    wrkVersion: null,
    pushgateway: null,
  });
  const text = resultJson(r);
  assert.ok(text.includes('"histogram": [[5,1],[9,2]]'));
  assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(r)));
});
