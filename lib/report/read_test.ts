import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { readRecords } from "./read.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-read-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const experiment = {
  schema: "cncfdemo.experiment/v1",
  id: "e1",
  kind: "chaos",
  started_at: "2026-01-01T00:00:00Z",
  figures: { recovery_s: 4.2 },
};

Deno.test("read: an empty or missing directory is refused in one line", async () => {
  await withDir(async (dir) => {
    await assert.rejects(
      readRecords(dir),
      (e) => e instanceof UsageError && e.message.startsWith(`No records in ${dir}: make some`),
    );
    await assert.rejects(
      readRecords(`${dir}/nope`),
      (e) =>
        e instanceof UsageError &&
        e.message.startsWith(`Cannot read results from ${dir}/nope: no such directory;`),
    );
    await Deno.writeTextFile(`${dir}/f`, "");
    await assert.rejects(
      readRecords(`${dir}/f`),
      (e) =>
        e instanceof UsageError &&
        e.message === `Cannot read results from ${dir}/f: not a directory`,
    );
  });
});

Deno.test("read: corrupt files, unknown schemas and incomplete records are skipped, each named", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/a-corrupt.json`, '{"schema": "cncfdemo.bench/v1", "id": ');
    await Deno.writeTextFile(`${dir}/b-other.json`, JSON.stringify({ schema: "something/v9" }));
    await Deno.writeTextFile(
      `${dir}/c-incomplete.json`,
      JSON.stringify({ schema: "cncfdemo.rollout/v1", id: "r" }),
    );
    await Deno.writeTextFile(`${dir}/d-experiment.json`, JSON.stringify(experiment));
    await Deno.writeTextFile(`${dir}/report.html`, "<html>");
    const r = await readRecords(dir);
    assert.deepEqual(r.experiment.map((e) => e.id), ["e1"]);
    assert.deepEqual(r.skipped.map((s) => s.file), [
      `${dir}/a-corrupt.json`,
      `${dir}/b-other.json`,
      `${dir}/c-incomplete.json`,
    ]);
    assert.match(r.skipped[0]!.why, /^not valid JSON/);
    assert.match(r.skipped[1]!.why, /^unknown schema "something\/v9"/);
    assert.equal(r.skipped[2]!.why, "a cncfdemo.rollout/v1 record with no session (string)");
  });
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/only.json`, "not json");
    await assert.rejects(
      readRecords(dir),
      (e) => e instanceof UsageError && /^No records in .* \(1 file\(s\) skipped\)/.test(e.message),
    );
  });
});
