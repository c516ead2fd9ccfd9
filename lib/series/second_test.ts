import assert from "node:assert/strict";
import { CncfdemoError } from "../errors.ts";
import { parseSecondLine } from "./second.ts";

const good = {
  schema: "cncfdemo.second/v1",
  generator: "g1",
  second: 3,
  start_unix_ms: 1_700_000_000_000,
  responses: 4,
  bytes: 400,
  errors: { connect: 1, read: 0, write: 0, status: 1, timeout: 0 },
  histogram: [[120, 3], [1_500, 1]],
  backlog: 0,
};

Deno.test("parseSecondLine: a loadgen line becomes a sample", () => {
  const s = parseSecondLine(JSON.stringify(good), "generator g1");
  assert.deepEqual(s, {
    generator: "g1",
    second: 3,
    startUnixMs: 1_700_000_000_000,
    responses: 4,
    bytes: 400,
    errors: { connect: 1, read: 0, write: 0, status: 1, timeout: 0 },
    histogram: [[120, 3], [1_500, 1]],
    backlog: 0,
  });
});

Deno.test("parseSecondLine: what is wrong is named in one line", () => {
  const cases: [string, RegExp][] = [
    ["not json", /from generator g1 is not usable: not JSON/],
    [JSON.stringify({ ...good, schema: "x" }), /schema is "x", expected "cncfdemo.second\/v1"/],
    [JSON.stringify({ ...good, responses: -1 }), /responses is -1, not a count/],
    [JSON.stringify({ ...good, errors: { ...good.errors, read: "1" } }), /errors\.read is "1"/],
    [
      JSON.stringify({ ...good, histogram: [[5, 1], [4, 1]] }),
      /histogram: entry 1 is out of order/,
    ],
  ];
  for (const [text, want] of cases) {
    assert.throws(() => parseSecondLine(text, "generator g1"), (err: unknown) => {
      assert.ok(err instanceof CncfdemoError);
      assert.match(err.message, want);
      assert.ok(!err.message.includes("\n"));
      return true;
    });
  }
});
