import assert from "node:assert/strict";
import { histogramProblem, histogramStats, mergeHistograms, percentile } from "./histogram.ts";

/** Nearest-rank percentile of raw samples, computed the slow, obvious way. */
function sortedPercentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(Number(((p / 100) * sorted.length).toFixed(9))));
  return sorted[rank - 1]!;
}

function toHistogram(samples: number[]): [number, number][] {
  const m = new Map<number, number>();
  for (const s of samples) m.set(s, (m.get(s) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => a[0] - b[0]);
}

/** A deterministic pseudo-random generator (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("merged percentiles equal the percentiles of the union of the samples", () => {
  const r = rng(7);
  // Three generators with different latency profiles (one slow with a long tail).
  const gens = [
    Array.from({ length: 5000 }, () => 200 + Math.floor(r() * 300)),
    Array.from({ length: 3000 }, () => 250 + Math.floor(r() * 400)),
    Array.from({ length: 1000 }, () => 800 + Math.floor(-Math.log(1 - r()) * 5000)),
  ];
  const merged = mergeHistograms(gens.map(toHistogram));
  const union = gens.flat();
  for (const p of [1, 50, 75, 90, 99, 99.9, 100]) {
    assert.deepEqual(percentile(merged, p), sortedPercentile(union, p), `p${p}`);
  }
  const s = histogramStats(merged);
  assert.deepEqual(s.count, union.length);
  assert.deepEqual(s.min, Math.min(...union));
  assert.deepEqual(s.max, Math.max(...union));
  const mean = union.reduce((a, b) => a + b, 0) / union.length;
  assert.deepEqual(Math.abs(s.mean! - mean) < 1e-9, true);
  // Averaging the generators' p99s is not the p99 of the whole: here it is far off.
  const avgP99 = gens.map((g) => sortedPercentile(g, 99)).reduce((a, b) => a + b, 0) / 3;
  const exact = percentile(merged, 99)!;
  assert.deepEqual(Math.abs(avgP99 - exact) / exact > 0.2, true, `avg ${avgP99} vs exact ${exact}`);
});

Deno.test("percentile edge cases: ranks on exact boundaries, one sample, empty", () => {
  // 1000 samples 1..1000: p99.9 is rank 999 (99.9 × 1000 / 100 = 999.0000000000001 in floats).
  const h = toHistogram(Array.from({ length: 1000 }, (_, i) => i + 1));
  assert.deepEqual(percentile(h, 99.9), 999);
  assert.deepEqual(percentile(h, 50), 500);
  assert.deepEqual(percentile(h, 100), 1000);
  assert.deepEqual(percentile([[42, 1]], 50), 42);
  assert.deepEqual(percentile([], 50), undefined);
  assert.deepEqual(histogramStats([]).mean, undefined);
  assert.deepEqual(histogramStats([[5, 1]]).stdev, undefined);
});

Deno.test("histogramProblem names malformed distributions", () => {
  assert.deepEqual(histogramProblem([[1, 2], [3, 4]]), undefined);
  assert.deepEqual(histogramProblem([[3, 1], [1, 1]]), "entry 1 is out of order");
  assert.deepEqual(histogramProblem([[1, 0]]), "entry 0 has count 0, not a whole number ≥ 1");
  assert.deepEqual(histogramProblem({}), "not a list");
});
