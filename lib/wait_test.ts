import assert from "node:assert/strict";
import { TimeoutError } from "./errors.ts";
import { Deadline, deadline, pollUntil } from "./wait.ts";

Deno.test("waits given one deadline share it: once it passed, the next wait checks once and says what is not ready", async () => {
  const until = deadline(100);
  let first = 0;
  await assert.rejects(
    pollUntil(() => (first++, false), { deadline: until, intervalMs: 10, describe: () => "A" }),
    (err: Error) => err instanceof TimeoutError && err.message === "A",
  );
  assert.ok(first > 1, `the first wait polled ${first} times`);
  assert.ok(until.passed);
  let second = 0;
  await assert.rejects(
    pollUntil(() => (second++, false), { deadline: until, describe: () => "B not ready" }),
    (err: Error) => err instanceof TimeoutError && err.message === "B not ready",
  );
  assert.equal(second, 1);
  // A condition that already holds is not a timeout, even past the deadline.
  assert.equal(await pollUntil(() => "ok", { deadline: until, describe: () => "C" }), "ok");
});

Deno.test("a deadline caps a wait's own bound, and says its allowance", () => {
  const long = new Deadline(60_000);
  assert.equal(long.cap(1_000).totalMs, 1_000);
  assert.equal(long.cap(120_000), long);
  assert.equal(new Deadline(0).cap(1_000).left(), 0);
  assert.equal(new Deadline(5_000).within, "within 5.0s");
});
