import assert from "node:assert/strict";
import { onStepEvent, parallel, runSteps, sequence, type Step, step, timeline } from "./steps.ts";

/** A clock the test moves by hand: each step "takes" the time it adds. */
function fakeClock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

function collect() {
  const lines: string[] = [];
  return { lines, write: (l: string) => void lines.push(l) };
}

Deno.test("steps: a start and an end line per step, details, then a timeline", async () => {
  const clock = fakeClock();
  const out = collect();
  const steps: Step[] = [
    { name: "First", run: () => Promise.resolve(clock.advance(1_500)).then(() => "created") },
    { name: "Second", run: () => Promise.resolve(clock.advance(250)) },
  ];
  const records = await runSteps(steps, { write: out.write, interactive: false, now: clock.now });
  assert.deepEqual(out.lines.slice(0, 4), [
    "• First …",
    "✓ First (1.5s) — created",
    "• Second …",
    "✓ Second (250ms)",
  ]);
  assert.match(
    out.lines[4]!,
    /^Timeline \(total 1\.8s\):\n {2}✓ First\s+1\.5s {2}created\n {2}✓ Second\s+250ms$/,
  );
  assert.deepEqual(records.map((r) => [r.name, r.ok, r.ms]), [["First", true, 1_500], [
    "Second",
    true,
    250,
  ]]);
});

Deno.test("steps: a failure prints ✗ with the reason, skips the rest, prints the timeline, rethrows", async () => {
  const clock = fakeClock();
  const out = collect();
  let thirdRan = false;
  const boom = new Error("etcd did not start");
  await assert.rejects(
    runSteps([
      { name: "One", run: () => Promise.resolve(clock.advance(100)) },
      { name: "Two", run: () => (clock.advance(2_000), Promise.reject(boom)) },
      { name: "Three", run: () => Promise.resolve(void (thirdRan = true)) },
    ], { write: out.write, interactive: false, now: clock.now }),
    (err) => err === boom,
  );
  assert.equal(thirdRan, false);
  assert.ok(out.lines.includes("✗ Two (2.0s): etcd did not start"));
  const tl = out.lines.at(-1)!;
  assert.match(tl, /✓ One/);
  assert.match(tl, /✗ Two\s+2\.0s/);
  assert.doesNotMatch(tl, /Three/);
});

Deno.test("steps: parallel groups run concurrently and report each child", async () => {
  const out = collect();
  const order: string[] = [];
  const gate = Promise.withResolvers<void>();
  const a: Step = {
    name: "A",
    async run() {
      order.push("A start");
      await gate.promise; // finishes only after B started: proves concurrency
      order.push("A end");
    },
  };
  const b: Step = {
    name: "B",
    run() {
      order.push("B start");
      gate.resolve();
      return Promise.resolve("done");
    },
  };
  await runSteps([parallel("Both", [a, b])], { write: out.write, interactive: false });
  assert.deepEqual(order, ["A start", "B start", "A end"]);
  assert.ok(out.lines.some((l) => /^ {2}✓ A \(/.test(l)));
  assert.ok(out.lines.some((l) => /^ {2}✓ B \(.*\) — done$/.test(l)));
  assert.ok(out.lines.some((l) => /^✓ Both \(/.test(l)));
});

Deno.test("steps: a failing child fails its group once, with the child's reason", async () => {
  const out = collect();
  await assert.rejects(
    runSteps([parallel("Group", [
      { name: "ok", run: () => Promise.resolve() },
      { name: "bad", run: () => Promise.reject(new Error("nope")) },
    ])], { write: out.write, interactive: false }),
    /nope/,
  );
  assert.equal(out.lines.filter((l) => l.includes("nope")).length, 1);
  assert.ok(out.lines.some((l) => /^✗ Group \(\d+ms\)$/.test(l)));
});

Deno.test("steps: plain progress lines are throttled", async () => {
  const clock = fakeClock();
  const out = collect();
  await runSteps([{
    name: "Build",
    run(ctx) {
      ctx.progress("1/3"); // printed
      clock.advance(1_000);
      ctx.progress("2/3"); // too soon: dropped
      clock.advance(5_000);
      ctx.progress("3/3"); // printed
      return Promise.resolve();
    },
  }], { write: out.write, interactive: false, now: clock.now, summary: false });
  assert.deepEqual(out.lines, ["• Build …", "  … 1/3", "  … 3/3", "✓ Build (6.0s)"]);
});

Deno.test("timeline: nested steps are indented under their group, in declared order", () => {
  const child = (name: string) => ({ name, ok: true, ms: 5, depth: 1, children: [] });
  const text = timeline([
    {
      name: "Group",
      ok: true,
      ms: 10,
      depth: 0,
      children: [child("A"), { ...child("B"), ok: false }],
    },
    { name: "After", ok: true, ms: 1, depth: 0, children: [] },
  ], 10);
  assert.match(
    text,
    /\n {2}✓ Group\s+10ms\n {2}✓ {3}A\s+5ms\n {2}✗ {3}B\s+5ms\n {2}✓ After\s+1ms$/,
  );
});

Deno.test("steps: the timeline follows the tree even when a parallel track finishes first", async () => {
  const out = collect();
  const slow = Promise.withResolvers<void>();
  await runSteps([
    parallel("Tracks", [
      sequence("App", [
        { name: "one", run: () => slow.promise },
        { name: "two", run: () => Promise.resolve() },
      ]),
      sequence("Mon", [{ name: "mon", run: () => Promise.resolve(slow.resolve()) }]),
    ]),
  ], { write: out.write, interactive: false });
  const tl = out.lines.at(-1)!.split("\n").slice(1).map((l) =>
    l.trim().split(/\s+/).slice(0, 2).join(" ")
  );
  assert.deepEqual(tl, ["✓ Tracks", "✓ App", "✓ one", "✓ two", "✓ Mon", "✓ mon"]);
});

Deno.test("steps: a listener hears each start, progress, note and end beside its terminal line", async () => {
  const clock = fakeClock();
  const seen: string[] = [];
  const stop = onStepEvent((e) => {
    const name = e.kind === "start" ? `${e.name}${e.parent ? " in parent" : ""}` : e.id;
    seen.push(`${e.kind} ${name}${e.kind === "end" ? ` ${e.ok} ${e.ms}` : ""}`);
  });
  const ids = new Map<string, string>();
  const idOf = onStepEvent((e) => void (e.kind === "start" && ids.set(e.id, e.name)));
  try {
    await assert.rejects(
      runSteps([
        sequence("Group", [
          step("A", (ctx) => {
            ctx.progress("half");
            ctx.note("a note");
            clock.advance(10);
            return Promise.resolve("done");
          }),
        ]),
        step("B", () => Promise.reject(new Error("boom"))),
      ], {
        write: (l) => void seen.push(`line ${l.split("\n")[0]}`),
        interactive: false,
        now: clock.now,
      }),
      /boom/,
    );
  } finally {
    stop();
    idOf();
  }
  const named = seen.map((s) => s.replace(/s\d+/, (id) => ids.get(id) ?? id));
  assert.deepEqual(named, [
    "start Group",
    "line • Group …",
    "start A in parent",
    "line   • A …",
    "progress A",
    "line     … half",
    "line     a note",
    "note A",
    "line   ✓ A (10ms) — done",
    "end A true 10",
    "line ✓ Group (10ms)",
    "end Group true 10",
    "start B",
    "line • B …",
    "line ✗ B (0ms): boom",
    "end B false 0",
    "line Timeline (total 10ms):",
  ]);
});
