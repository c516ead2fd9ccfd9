import assert from "node:assert/strict";
import type { GeneratorSecond } from "../series/second.ts";
import { generatorFromSeconds } from "./series_generators.ts";

const second = (n: number, responses: number, histogram: [number, number][]): GeneratorSecond => ({
  generator: "g1",
  second: n,
  startUnixMs: 1_000_000,
  responses,
  bytes: responses * 10,
  errors: { connect: n, read: 0, write: 0, status: 1, timeout: 0 },
  histogram,
  backlog: 0,
});

Deno.test("generatorFromSeconds: counts summed, the distribution the sum of the seconds'", () => {
  const g = generatorFromSeconds("g1", [
    second(0, 3, [[100, 2], [300, 1]]),
    second(1, 2, [[100, 1], [500, 1]]),
  ], { runId: "r", target: "http://127.0.0.1:8080/", durationS: 2 });
  assert.equal(g.requests, 5);
  assert.equal(g.bytes, 50);
  assert.deepEqual(g.errors, { connect: 1, read: 0, write: 0, status: 2, timeout: 0 });
  assert.deepEqual(g.histogram, [[100, 3], [300, 1], [500, 1]]);
  assert.equal(g.latencyUs.count, 5);
  assert.equal(g.latencyUs.min, 100);
  assert.equal(g.latencyUs.max, 500);
  assert.equal(g.latencyUs.mean, 220);
  assert.equal(g.durationUs, 2e6);
  // it ended when its last second did
  assert.equal(g.endedAtUnix, 1_002);
});
