import assert from "node:assert/strict";
import { parseQuantity } from "../quantity.ts";
import { MIN_NODE_HEAP_MIB, NODE_HEAP_SHARE, nodeHeapMiB, wiredTigerCacheGB } from "./sizing.ts";
import { resolveValues } from "./values.ts";

Deno.test("nodeHeapMiB: the processes' heaps together stay well below the memory limit", () => {
  assert.equal(nodeHeapMiB("1Gi", 3), 238);
  assert.equal(nodeHeapMiB("1Gi", 1), 716);
  assert.equal(nodeHeapMiB("2048Mi", 4), 358);
  for (const [limit, processes] of [["1Gi", 3], ["512Mi", 2], ["4Gi", 9]] as const) {
    const total = nodeHeapMiB(limit, processes) * processes;
    const mib = parseQuantity(limit)! / 2 ** 20;
    assert.ok(total <= mib * NODE_HEAP_SHARE, `${limit} × ${processes}: ${total} MiB`);
  }
});

Deno.test("wiredTigerCacheGB: mongod's own rule, 50% of (memory − 1 GB), over the container limit", () => {
  assert.equal(wiredTigerCacheGB("2Gi"), 0.5);
  assert.equal(wiredTigerCacheGB("4Gi"), 1.5);
  assert.equal(wiredTigerCacheGB("1Gi"), 0.25, "at least 0.25 GB");
  assert.equal(wiredTigerCacheGB("3000Mi"), 0.96);
});

Deno.test("values: Countly's API workers must leave each Node.js process a usable heap", async () => {
  const v = await resolveValues([], ["countly.api.workers=3"]);
  assert.equal(v.countly.api.workers, 3);
  await assert.rejects(
    () => resolveValues([], ["countly.api.workers=8"]),
    (err: Error) => {
      assert.equal(
        err.message,
        `Value countly.api.workers (8) leaves 79 MiB of Node.js heap to each of Countly's 9 API processes under countly.api.memoryLimit 1Gi (at least ${MIN_NODE_HEAP_MIB} MiB each): lower the workers or raise the limit`,
      );
      return true;
    },
  );
  // a bigger limit makes room
  const big = await resolveValues([], ["countly.api.workers=8", "countly.api.memoryLimit=4Gi"]);
  assert.equal(big.countly.api.workers, 8);
});

Deno.test("values: BOINC's project URL and account key are checked", async () => {
  const v = await resolveValues([], []);
  assert.equal(v.boinc.projectUrl, "https://einstein.phys.uwm.edu/");
  assert.equal(v.boinc.accountKey, "");
  await assert.rejects(
    () => resolveValues([], ["boinc.projectUrl=https://boinc.bakerlab.org/rosetta"]),
    /must be a BOINC master URL like https:\/\/einstein\.phys\.uwm\.edu\/ \(ending in \/\)/,
  );
  await assert.rejects(
    () => resolveValues([], ["boinc.accountKey=abc def"]),
    /must be an account key \(letters and digits\) or empty/,
  );
  const key = await resolveValues([], ["boinc.accountKey=0123abcdef"]);
  assert.equal(key.boinc.accountKey, "0123abcdef");
});
