import assert from "node:assert/strict";
import { formatBytes, formatCpu, parseQuantity } from "./quantity.ts";

Deno.test("parseQuantity: binary and decimal suffixes, milli, exponents", () => {
  assert.equal(parseQuantity("512Mi"), 512 * 2 ** 20);
  assert.equal(parseQuantity("16Gi"), 16 * 2 ** 30);
  assert.equal(parseQuantity("1.5G"), 1.5e9);
  assert.equal(parseQuantity("500m"), 0.5);
  assert.equal(parseQuantity("8"), 8);
  assert.equal(parseQuantity("1e3"), 1000);
  assert.equal(parseQuantity("100k"), 100_000);
});

Deno.test("parseQuantity: rejects malformed input", () => {
  for (const bad of ["", "Gi", "16 Gi", "16gb", "abc", "1..5", "16GiB"]) {
    assert.equal(parseQuantity(bad), undefined, bad);
  }
});

Deno.test("formatBytes and formatCpu give canonical Kubernetes forms", () => {
  assert.equal(formatBytes(32 * 2 ** 30), "32Gi");
  assert.equal(formatBytes(512 * 2 ** 20), "512Mi");
  assert.equal(formatBytes(1536 * 2 ** 20), "1536Mi");
  assert.equal(formatBytes(1000), "1000");
  assert.equal(formatCpu(8), "8");
  assert.equal(formatCpu(0.5), "500m");
  assert.equal(formatCpu(parseQuantity("3500m")!), "3500m");
});
