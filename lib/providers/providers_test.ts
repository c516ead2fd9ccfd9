import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { flag } from "../flags.ts";
import {
  givenFlags,
  mergeFlagSpecs,
  PROVIDER_IDS,
  providerEntry,
  PROVIDERS,
  refuseForeignFlags,
} from "./providers.ts";

Deno.test("providers: one registry entry per provider, each with its id and context names", async () => {
  assert.deepEqual(PROVIDER_IDS, Object.keys(PROVIDERS));
  for (const id of PROVIDER_IDS) assert.equal((await providerEntry(id).load()).id, id);
  assert.equal((await providerEntry("sim").load()).contextName("demo"), "sim-demo");
  assert.equal((await providerEntry("aws").load()).contextName("demo"), "aws-demo");
});

Deno.test("providers: the demo says in one line where it cannot bootstrap", () => {
  const aws = providerEntry("aws").demo;
  assert.ok("unsupported" in aws);
  assert.match(
    aws.unsupported,
    /^deno task demo --provider aws is not supported: .*--context aws-<name>$/,
  );
  assert.ok("flags" in providerEntry("sim").demo);
});

Deno.test("mergeFlagSpecs: first definition wins, differing defaults dropped, owners named", () => {
  const a = {
    name: flag.string("Cluster name", { default: "x" }),
    nodes: flag.int("Nodes", { default: 3 }),
  };
  const b = {
    name: flag.string("Cluster name", { default: "x" }),
    timeout: flag.duration("T", { default: "10m" }),
  };
  const c = { timeout: flag.duration("T", { default: "5m" }) };
  const m = mergeFlagSpecs([a, b, c], ["--provider a", "--provider b", "--provider c"]);
  assert.deepEqual(Object.keys(m), ["name", "nodes", "timeout"]);
  assert.equal(m.name!.description, "Cluster name (--provider a, --provider b)");
  assert.equal(m.name!.default, "x");
  assert.equal(m.nodes!.description, "Nodes (--provider a)");
  assert.equal(m.timeout!.description, "T (--provider b, --provider c; default by provider)");
  assert.equal(m.timeout!.default, undefined);
  assert.equal(mergeFlagSpecs([a]).nodes, a.nodes);
});

Deno.test("givenFlags and refuseForeignFlags: another provider's flag is one line", () => {
  const spec = { region: flag.string("Region"), name: flag.string("Name") };
  assert.deepEqual(givenFlags(["--name=x", "--set", "a=b", "--region", "r", "--name", "y"], spec), [
    "name",
    "region",
  ]);
  refuseForeignFlags(["--name", "x"], "sim", {}, (e) => e.teardownFlags);
  assert.throws(
    () => refuseForeignFlags(["--region", "eu-west-1"], "sim", {}, (e) => e.teardownFlags),
    (e) =>
      e instanceof UsageError &&
      e.message === "--region is a flag of --provider aws, not of --provider sim: drop it",
  );
  // a flag both take is fine
  refuseForeignFlags(
    ["--region", "eu-west-1"],
    "sim",
    { region: spec.region },
    (e) => e.teardownFlags,
  );
});
