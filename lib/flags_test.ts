import assert from "node:assert/strict";
import { HelpShown, UsageError } from "./errors.ts";
import { type Command, flag, helpText, parseFlags } from "./flags.ts";

const cmd: Command = {
  name: "demo:test",
  summary: "A test command.",
  examples: ["deno task demo:test"],
};
const spec = {
  name: flag.string("Name", { default: "cncfdemo" }),
  nodes: flag.int("Nodes", { min: 1, default: 3 }),
  minions: flag.int("Minions", { min: 0 }),
  time: flag.duration("Time", { default: "30s" }),
  memory: flag.quantity("Memory", { default: "32Gi" }),
  mode: flag.choice("Mode", ["ami", "images"] as const, { default: "ami" }),
  "no-wait": flag.boolean("Skip waiting"),
  set: flag.list("Set a value"),
};

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected UsageError, got ${err}`);
    assert.equal(err.exitCode, 2);
    assert.ok(!err.message.includes("\n"), "one line");
    return err.message;
  }
  assert.fail("no error thrown");
}

Deno.test("flags: defaults are typed and camelCased", () => {
  const o = parseFlags(cmd, spec, []);
  assert.equal(o.name, "cncfdemo");
  assert.equal(o.nodes, 3);
  assert.equal(o.minions, undefined);
  assert.equal(o.time, 30_000);
  assert.equal(o.memory, 32 * 2 ** 30);
  assert.equal(o.mode, "ami");
  assert.equal(o.noWait, false);
  assert.deepEqual(o.set, []);
  assert.equal(o.verbose, false);
});

Deno.test("flags: values in both --flag value and --flag=value forms", () => {
  const o = parseFlags(cmd, spec, [
    "--nodes",
    "1000",
    "--time=5m",
    "--memory",
    "512Mi",
    "--no-wait",
    "--set",
    "a=1",
    "--set=b=2",
    "--verbose",
  ]);
  assert.equal(o.nodes, 1000);
  assert.equal(o.time, 300_000);
  assert.equal(o.memory, 512 * 2 ** 20);
  assert.equal(o.noWait, true);
  assert.deepEqual(o.set, ["a=1", "b=2"]);
  assert.equal(o.verbose, true);
});

Deno.test("flags: bad values name the flag, the value and what is expected", () => {
  assert.equal(
    usageError(() => parseFlags(cmd, spec, ["--nodes", "0"])),
    'Cannot parse --nodes "0": expected a whole number ≥ 1',
  );
  assert.equal(
    usageError(() => parseFlags(cmd, spec, ["--nodes", "abc"])),
    'Cannot parse --nodes "abc": expected a whole number ≥ 1',
  );
  assert.equal(
    usageError(() => parseFlags(cmd, spec, ["--nodes", "1.5"])),
    'Cannot parse --nodes "1.5": expected a whole number ≥ 1',
  );
  assert.equal(
    usageError(() => parseFlags(cmd, spec, ["--time", "5x"])),
    'Cannot parse --time "5x": expected a duration like 30s or 5m',
  );
  assert.equal(
    usageError(() => parseFlags(cmd, spec, ["--memory", "lots"])),
    'Cannot parse --memory "lots": expected a positive quantity like 8, 500m or 32Gi',
  );
  assert.equal(
    usageError(() => parseFlags(cmd, spec, ["--mode", "vm"])),
    'Cannot parse --mode "vm": expected one of ami, images',
  );
});

Deno.test("flags: a negative number after a flag reaches validation", () => {
  assert.equal(
    usageError(() => parseFlags(cmd, spec, ["--minions", "-1"])),
    'Cannot parse --minions "-1": expected a whole number ≥ 0',
  );
});

Deno.test("flags: unknown flags, missing values, stray arguments", () => {
  assert.equal(
    usageError(() => parseFlags(cmd, spec, ["--bogus"])),
    "Unknown flag --bogus for deno task demo:test: see --help for the flags it takes",
  );
  assert.match(
    usageError(() => parseFlags(cmd, spec, ["--nodes"])),
    /^Flag --nodes needs a value: expected a whole number ≥ 1/,
  );
  assert.equal(
    usageError(() => parseFlags(cmd, spec, ["--no-wait=yes"])),
    "Flag --no-wait takes no value: write just --no-wait",
  );
  assert.equal(
    usageError(() => parseFlags(cmd, spec, ["extra"])),
    'Unexpected argument "extra" for deno task demo:test: see --help',
  );
});

Deno.test("flags: positionals when the command takes them", () => {
  const c: Command = { ...cmd, usage: "NAME [flags]", positionals: { min: 1, max: 1 } };
  assert.deepEqual(parseFlags(c, spec, ["x"]).positionals, ["x"]);
  assert.match(
    usageError(() => parseFlags(c, spec, [])),
    /^Missing argument for deno task demo:test/,
  );
});

Deno.test("flags: --help prints every flag with its default and throws HelpShown", () => {
  const text = helpText(cmd, spec);
  for (const name of Object.keys(spec)) assert.ok(text.includes(`--${name}`), name);
  assert.match(text, /--time DURATION\s+Time \(default: 30s\)/);
  assert.match(text, /--memory QUANTITY\s+Memory \(default: 32Gi\)/);
  assert.match(text, /-h, --help/);
  assert.match(text, /--verbose/);
  assert.match(text, /Examples:\n {2}deno task demo:test/);
  const original = Deno.stdout.writeSync;
  const written: Uint8Array[] = [];
  Deno.stdout.writeSync = (p: Uint8Array) => (written.push(p), p.length);
  try {
    assert.throws(() => parseFlags(cmd, spec, ["--help"]), HelpShown);
  } finally {
    Deno.stdout.writeSync = original;
  }
  assert.match(new TextDecoder().decode(written[0]), /^Usage: deno task demo:test \[flags\]/);
});

Deno.test("flags: short names work for every kind of flag", () => {
  const s = {
    output: flag.choice("Output", ["yaml", "json"] as const, { short: "o" }),
    namespace: flag.string("Namespace", { short: "n" }),
  };
  const o = parseFlags(cmd, s, ["-o", "json", "-n", "web"]);
  assert.equal(o.output, "json");
  assert.equal(o.namespace, "web");
  assert.equal(
    usageError(() => parseFlags(cmd, s, ["-o", "xml"])),
    'Cannot parse --output "xml": expected one of yaml, json',
  );
});
