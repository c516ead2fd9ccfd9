/**
 * The view's page in headless Chromium, fed by hand through a real server: events marked on the
 * charts and listed, wave counts, a failed step's error, the summary, the failed end; new events
 * reach an open page; a reload shows the same state; nothing requested off the server.
 */
import assert from "node:assert/strict";
import { EventBus } from "../lib/ui/event_bus.ts";
import { startUiServer } from "../lib/ui/server.ts";
import { assertOnlyFromTask, openPage, waitInPage } from "./support/ui_task.ts";

const TEXT = `(() => ({
  state: document.querySelector("#state").textContent,
  marks: [...document.querySelectorAll("#marks li")].map((li) => li.textContent),
  waves: [...document.querySelectorAll(".wave h3")].map((h) => h.textContent),
  steps: [...document.querySelectorAll("#steps li.step")].map((li) =>
    li.dataset.depth + " " + li.dataset.name + " " + li.dataset.state + " " +
    li.querySelector(".row").textContent),
  points: [...document.querySelectorAll("figure.chart")].map((f) => f.dataset.series + " " + f.dataset.points),
  summary: document.querySelector("#summary").textContent,
}))()`;

Deno.test("ui page: steps, waves, series with marks, summary and a failed end", async () => {
  const bus = new EventBus();
  const server = startUiServer({ bus, title: "deno task test" });
  const t = 1_000;
  bus.emit({
    type: "task",
    command: "test",
    args: ["--x"],
    started_at: new Date().toISOString(),
    pid: 1,
  });
  bus.emit({
    type: "step",
    step: { kind: "start", id: "s1", name: "Group", depth: 0, group: true, t },
  });
  bus.emit({
    type: "step",
    step: { kind: "start", id: "s2", parent: "s1", name: "Apply", depth: 1, group: false, t },
  });
  bus.emit({
    type: "wave",
    wave: "Wave one",
    objects: [
      { id: "Deployment ns/a", status: "applying", ready: false },
      { id: "Service ns/a", status: "applying", ready: false },
    ],
  });
  bus.emit({
    type: "object",
    wave: "Wave one",
    id: "Deployment ns/a",
    status: "ready",
    ready: true,
  });
  bus.emit({ type: "series", t: t + 1_000, name: "throughput", values: { ok: 10 } });
  bus.emit({ type: "mark", t: t + 1_500, label: "kill pod-1" });
  bus.emit({ type: "series", t: t + 2_000, name: "throughput", values: { ok: 4 } });
  const w = await openPage(server.url);
  try {
    const { page } = w;
    await waitInPage(page, `document.documentElement.dataset.seq === "8"`);
    let s = await page.evaluate(TEXT) as Record<string, unknown>;
    assert.deepEqual(s.marks, ["2.5 s: kill pod-1"]);
    assert.deepEqual(s.waves, ["Wave one (1/2 ready)"]);
    assert.deepEqual(s.points, ["throughput 2"]);
    assert.equal(s.state, "running");
    // live: new events reach the open page
    bus.emit({ type: "series", t: t + 3_000, name: "throughput", values: { ok: 9 } });
    bus.emit({
      type: "step",
      step: { kind: "end", id: "s2", ok: false, ms: 1_234, error: "boom", t },
    });
    bus.emit({ type: "step", step: { kind: "end", id: "s1", ok: false, ms: 1_300, t } });
    bus.emit({ type: "summary", lines: ["one", "two"] });
    bus.emit({ type: "end", ok: false, error: "boom", t: t + 4_000 });
    await waitInPage(page, `document.documentElement.dataset.state === "failed"`);
    s = await page.evaluate(TEXT) as Record<string, unknown>;
    assert.deepEqual(s.points, ["throughput 3"]);
    assert.deepEqual(s.steps, [
      "0 Group failed ✗Group1.3s",
      "1 Apply failed ✗Apply1.2sboom",
    ]);
    assert.equal(s.summary, "one\ntwo");
    assert.equal(s.state, "✗ the task failed: boom");
    // a reload shows the same
    await page.reload({ waitUntil: "load" });
    await waitInPage(page, `document.documentElement.dataset.state === "failed"`);
    assert.deepEqual(await page.evaluate(TEXT), s);
    assertOnlyFromTask(w, server.url);
  } finally {
    await w.browser.close();
    await server.close();
  }
});
