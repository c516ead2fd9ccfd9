import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "./duration.ts";

Deno.test("parseDuration: units and combinations", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("1.5s"), 1_500);
  assert.equal(parseDuration("2d"), 172_800_000);
});

Deno.test("parseDuration: rejects what is not a duration", () => {
  for (const bad of ["", "5", "5x", "m5", "5 m", "-5s", "5m3", "1e3s", "s"]) {
    assert.equal(parseDuration(bad), undefined, bad);
  }
});

Deno.test("formatDuration: readable at every scale", () => {
  assert.equal(formatDuration(850), "850ms");
  assert.equal(formatDuration(12_345), "12.3s");
  assert.equal(formatDuration(245_000), "4m05s");
  assert.equal(formatDuration(3_720_000), "1h02m");
});
