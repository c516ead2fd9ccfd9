import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { DEFAULT_VALUES, imageOf, resolveValues } from "./values.ts";

async function valuesFile(text: string): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(path, text);
  return path;
}

async function usage(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof UsageError, String(err));
    assert.ok(!err.message.includes("\n"));
    return err.message;
  }
  assert.fail("no error");
}

Deno.test("values: defaults when nothing is given, untouched originals", async () => {
  const v = await resolveValues([], []);
  assert.deepEqual(v, DEFAULT_VALUES);
  v.countly.api.minReplicas = 99;
  assert.equal(DEFAULT_VALUES.countly.api.minReplicas, 2);
});

Deno.test("values: files then --set, later wins, types converted from text", async () => {
  const f = await valuesFile(
    "countly:\n  api:\n    minReplicas: 4\n    maxReplicas: 20\nboinc:\n  enabled: false\n",
  );
  const v = await resolveValues([f], [
    "countly.api.minReplicas=5",
    "images.mongo.tag=7.0",
    "mongo.persistence.enabled=false",
  ]);
  assert.equal(v.countly.api.minReplicas, 5);
  assert.equal(v.countly.api.maxReplicas, 20);
  assert.equal(v.boinc.enabled, false);
  assert.equal(v.images.mongo.tag, "7.0");
  assert.equal(v.mongo.persistence.enabled, false);
  assert.equal(imageOf(v.images.mongo), "docker.io/library/mongo:7.0");
});

Deno.test("values: an unknown key names the key, the file and line, and a likely fix", async () => {
  const f = await valuesFile("countly:\n  api:\n    minReplica: 4\n");
  assert.equal(
    await usage(resolveValues([f], [])),
    `Unknown value countly.api.minReplica (${f} line 3): did you mean countly.api.minReplicas?`,
  );
  assert.equal(
    await usage(resolveValues([], ["monitoring.x=1"])),
    "Unknown value monitoring (from --set monitoring.x=1): did you mean monitoringNamespace?",
  );
});

Deno.test("values: wrong types and out-of-range values are refused with the key", async () => {
  const f = await valuesFile("mongo:\n  shards: two\n");
  assert.equal(
    await usage(resolveValues([f], [])),
    `Value mongo.shards (${f} line 2) must be a number, got "two"`,
  );
  assert.equal(
    await usage(resolveValues([], ["countly.api.minReplicas=0"])),
    "Value countly.api.minReplicas (from --set countly.api.minReplicas=0) must be a whole number from 1 to 1000, got 0",
  );
  assert.equal(
    await usage(resolveValues([], ["boinc.cpuLimit=lots"])),
    'Value boinc.cpuLimit (from --set boinc.cpuLimit=lots) must be a quantity like 500m or 512Mi, got "lots"',
  );
  assert.equal(
    await usage(resolveValues([], ["countly.api=3"])),
    'Value countly.api (from --set countly.api=3) must be a group of values, got "3"',
  );
  assert.equal(
    await usage(resolveValues([], ["countly.api.minReplicas=9", "countly.api.maxReplicas=3"])),
    "Value countly.api.minReplicas (9) must not exceed countly.api.maxReplicas (3)",
  );
  assert.match(
    await usage(resolveValues([], ["novalue"])),
    /^Cannot parse --set "novalue": expected path=value/,
  );
});

Deno.test("values: YAML syntax errors and missing files name the file", async () => {
  const f = await valuesFile("countly:\n  api: [unclosed\n");
  assert.match(
    await usage(resolveValues([f], [])),
    new RegExp(`^Cannot parse values file ${f} line \\d+: `),
  );
  assert.equal(
    await usage(resolveValues(["/nonexistent.yaml"], [])),
    "Cannot read values file /nonexistent.yaml: no such file",
  );
});
