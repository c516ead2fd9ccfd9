import assert from "node:assert/strict";
import { type Histogram, mergeHistograms } from "../bench/histogram.ts";
import { ERROR_CLASSES, type ErrorClass } from "../bench/wrk_result.ts";
import { mergeSecond } from "./merge_seconds.ts";
import type { GeneratorSecond } from "./second.ts";

/** One request as a generator saw it: when it ended, its latency, how it ended. */
interface Req {
  second: number;
  us: number;
  status?: number;
  error?: Exclude<ErrorClass, "status">;
}

/** What a generator reports for one second of its requests (the loadgen's aggregation). */
function secondOf(generator: string, second: number, reqs: readonly Req[]): GeneratorSecond {
  const mine = reqs.filter((r) => r.second === second);
  const errors = Object.fromEntries(ERROR_CLASSES.map((c) => [c, 0])) as Record<ErrorClass, number>;
  const counts = new Map<number, number>();
  let responses = 0;
  for (const r of mine) {
    if (r.error) {
      errors[r.error]++;
      continue;
    }
    responses++;
    if ((r.status ?? 200) > 399) errors.status++;
    counts.set(r.us, (counts.get(r.us) ?? 0) + 1);
  }
  const histogram: Histogram = [...counts].sort((a, b) => a[0] - b[0]);
  return {
    generator,
    second,
    startUnixMs: 1_000_000,
    responses,
    bytes: responses * 100,
    errors,
    histogram,
    backlog: 0,
  };
}

/** A deterministic pseudo-random stream (no Math.random: the test must be repeatable). */
function lcg(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

Deno.test("the merged second equals the second of the union of the generators' requests", () => {
  const rnd = lcg(7);
  const gens = ["g0", "g1", "g2"].map((g, i) => ({
    g,
    reqs: Array.from({ length: 400 + 100 * i }, (): Req => {
      const x = rnd();
      const second = Math.floor(rnd() * 3);
      const us = Math.floor(100 + rnd() * 5_000 * (i + 1));
      if (x < 0.03) return { second, us, error: "connect" };
      if (x < 0.05) return { second, us, error: "timeout" };
      if (x < 0.08) return { second, us, status: 503 };
      return { second, us };
    }),
  }));
  const union = gens.flatMap((x) => x.reqs);
  for (const s of [0, 1, 2]) {
    const merged = mergeSecond(gens.map((x) => secondOf(x.g, s, x.reqs)));
    const whole = mergeSecond([secondOf("all", s, union)]);
    assert.deepEqual(merged, whole, `second ${s}`);
    assert.ok(merged.errors.connect > 0 && merged.errors.status > 0, "the data has errors");
    assert.equal(merged.ok, merged.responses - merged.errors.status);
    assert.ok(merged.latency_ms.p99! > merged.latency_ms.p50!);
  }
});

Deno.test("a merged second's histogram is the sum of its parts, and its time is on the grid", () => {
  const a = secondOf("g0", 4, [{ second: 4, us: 10 }, { second: 4, us: 20 }]);
  const b = secondOf("g1", 4, [{ second: 4, us: 20 }, { second: 4, us: 30, status: 500 }]);
  const m = mergeSecond([a, b]);
  assert.deepEqual(m.histogram, mergeHistograms([a.histogram, b.histogram]));
  assert.deepEqual(m.histogram, [[10, 1], [20, 2], [30, 1]]);
  assert.equal(m.t_unix_ms, 1_000_000 + 4_000);
  assert.equal(m.responses, 4);
  assert.equal(m.ok, 3);
  assert.equal(m.errors.total, 1);
  assert.equal(m.latency_ms.p50, 0.02);
  assert.throws(() => mergeSecond([a, { ...b, second: 5 }]), /different seconds/);
});
