import assert from "node:assert/strict";
import { CncfdemoError, errorMessage, exitCodeOf, formatError, UsageError } from "./errors.ts";

const FIXTURE = new URL("../testdata/errors/fail.ts", import.meta.url).pathname;

async function runFixture(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", FIXTURE, ...args],
    env: { NO_COLOR: "1", CNCFDEMO_VERBOSE: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("errors: exit codes — usage 2, failures 1, unexpected 1", () => {
  assert.equal(exitCodeOf(new UsageError("x")), 2);
  assert.equal(exitCodeOf(new CncfdemoError("x")), 1);
  assert.equal(exitCodeOf(new TypeError("x")), 1);
  assert.equal(exitCodeOf("a string"), 1);
});

Deno.test("errors: messages are flattened to one line", () => {
  assert.equal(errorMessage(new Error("a\n   b\nc")), "a b c");
  assert.equal(errorMessage(42), "42");
});

Deno.test("errors: formatError is one line, the stack only when verbose", () => {
  const err = new CncfdemoError("Cannot do it: because", { cause: new Error("root cause") });
  assert.equal(formatError(err, false), "error: Cannot do it: because");
  const verbose = formatError(err, true);
  assert.match(verbose, /^error: Cannot do it: because\nCncfdemoError: Cannot do it/);
  assert.match(verbose, /caused by:\nError: root cause/);
  assert.equal(
    formatError(new TypeError("boom"), false),
    "error: boom (unexpected; run again with --verbose for details)",
  );
});

Deno.test("runMain: one line on stderr and the right exit code", async () => {
  const usage = await runFixture("usage");
  assert.equal(usage.code, 2);
  assert.equal(usage.stderr, 'error: Cannot parse --nodes "abc": expected a whole number ≥ 1\n');

  const failure = await runFixture("failure");
  assert.equal(failure.code, 1);
  assert.equal(failure.stderr.trim().split("\n").length, 1);
  assert.match(failure.stderr, /^error: Cannot reach the API server/);

  const bug = await runFixture("bug");
  assert.equal(bug.code, 1);
  assert.equal(
    bug.stderr,
    "error: x is undefined at somewhere (unexpected; run again with --verbose for details)\n",
  );

  assert.equal((await runFixture("code")).code, 3);
  assert.equal((await runFixture("ok")).code, 0);
});

Deno.test("runMain: --verbose adds the stack and the cause", async () => {
  const r = await runFixture("failure", "--verbose");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: Cannot reach the API server/);
  assert.match(r.stderr, /\n\s+at .*fail\.ts/);
  assert.match(r.stderr, /caused by:\nError: ECONNREFUSED/);
});
