/**
 * `rollout --ui` on a simulated cluster, followed in headless Chromium: every step reaches ✓ in the
 * order the terminal printed its ✓ line, every object of every wave turns ready, the summary and
 * the end are shown, no console problem, no request off 127.0.0.1. Saves a screenshot taken
 * mid-rollout and one at the end (screenshots/).
 */
import assert from "node:assert/strict";
import { withSimCluster } from "./support/sim_cluster.ts";
import { pollUntil } from "../lib/wait.ts";
import type { Sandbox } from "./support/env.ts";
import { startNginx } from "./support/servers.ts";
import {
  assertOnlyFromTask,
  followTask,
  SCREENSHOTS,
  statusOf,
  waitInPage,
} from "./support/ui_task.ts";

/** The stack without BOINC (background work) and MongoDB's volumes (no provisioner on sim). */
const STACK = ["mongo.persistence.enabled=false", "boinc.enabled=false"].flatMap((s) => [
  "--set",
  s,
]);

/** The names of the ✓ lines the terminal printed (before the timeline), in order. */
export function terminalDone(stderr: string): string[] {
  return stderr.split("\nTimeline (total")[0]!.split("\n").flatMap((l) => {
    const m = /^\s*✓ (.+?) \((?:\d+ms|\d+\.\ds|\d+m\d\ds|\d+h\d\dm)\)(?: — .*)?$/.exec(l);
    return m ? [m[1]!] : [];
  });
}

Deno.test("rollout --ui on a simulated cluster, then deno task ui over its records", async (t) => {
  await withSimCluster(["--nodes", "1"], async ({ sb }) => {
    await t.step("rollout --ui: every step ✓ in the terminal's order, objects ready", async () => {
      await rolloutUi(sb);
    });
    await t.step("deno task ui: every record in one click, the report embedded", async () => {
      await resultsUi(sb);
    });
  });
});

async function rolloutUi(sb: Sandbox): Promise<void> {
  let pageDone: string[] = [];
  const args = [...STACK, "--timeout", "3m", "--ui", "--ui-linger", "3m"];
  const r = await followTask(sb, "rollout.ts", args, async (task, watched) => {
    const { page } = watched;
    // Mid-rollout: some steps done, a wave on the page, the task still running.
    await waitInPage(
      page,
      `document.querySelectorAll("#steps li[data-state=ok]").length >= 3 &&
         document.querySelectorAll(".wave").length >= 1`,
      180_000,
    );
    const midState = await page.evaluate("document.documentElement.dataset.state") as string;
    await page.screenshot({ path: `${SCREENSHOTS}rollout-live.png`, fullPage: true });
    await waitInPage(page, `document.documentElement.dataset.state === "ok"`, 180_000);
    assert.equal(midState, "running");
    const steps = await page.evaluate(`[...document.querySelectorAll("#steps li.step")].map(
        (li) => ({ name: li.dataset.name, state: li.dataset.state, done: Number(li.dataset.done) }))`) as {
      name: string;
      state: string;
      done: number;
    }[];
    assert.deepEqual(steps.filter((s) => s.state !== "ok"), []);
    pageDone = steps.sort((a, b) => a.done - b.done).map((s) => s.name);
    // Every wave's every object ready; the summary says what the rollout did.
    const objects = await page.evaluate(`[...document.querySelectorAll(".wave tr")].map(
        (tr) => tr.closest(".wave").dataset.wave + " " + tr.dataset.id + " " + tr.dataset.ready)`) as string[];
    assert.ok(objects.length >= 10, objects.join("\n"));
    assert.deepEqual(objects.filter((o) => !o.endsWith(" true")), []);
    for (const id of ["Deployment monitoring/prometheus", "StatefulSet cncfdemo/mongo-config"]) {
      assert.ok(objects.some((o) => o.includes(` ${id} `)), `${id} in ${objects.join("\n")}`);
    }
    const summary = await page.evaluate(`document.querySelector("#summary").textContent`);
    assert.match(
      String(summary),
      /^Rollout complete: \d+ created, 0 configured, 0 pruned, 0 unchanged\./,
    );
    await page.screenshot({ path: `${SCREENSHOTS}rollout-end.png`, fullPage: true });
    assertOnlyFromTask(watched, task.url);
  });
  assert.equal(r.code, 0, r.stderr);
  const terminal = terminalDone(r.stderr);
  assert.ok(terminal.length >= 8, r.stderr);
  assert.deepEqual(pageDone, terminal);
}

async function resultsUi(sb: Sandbox): Promise<void> {
  const records = sb.env.CNCFDEMO_RESULTS_DIR!;
  const nginx = await startNginx();
  try {
    const bench = await sb.task("bench.ts", [
      ...["--local", "--url", nginx.url, "--time", "3s", "--connections", "4", "--per-second"],
      ...["--save-html", "--results-dir", records],
    ]);
    assert.equal(bench.code, 0, bench.stderr);
  } finally {
    await nginx.stop();
  }
  const r = await followTask(sb, "ui.ts", ["--results-dir", records], async (task, watched) => {
    for (const path of ["/", "/api/records", "/report", "/assets/chart.js"]) {
      assert.equal(await statusOf(task.url, (u) => (u.pathname = path, u.search = "")), 403);
    }
    const { page } = watched;
    await waitInPage(page, `document.documentElement.dataset.records === "3"`);
    // The report is embedded first; then each record opens with one click.
    const frame = async (sel: string, text: RegExp) => {
      await waitInPage(page, `!!document.querySelector(${JSON.stringify(sel)})`);
      const f = await (await page.$(sel))!.contentFrame();
      await pollUntil(
        async () => text.test(await f!.evaluate("document.body.innerText") as string),
        {
          timeoutMs: 30_000,
          describe: () => `${sel} does not show ${text}`,
        },
      );
    };
    await frame("#detail iframe", /rollout|bootstrap/i);
    const kinds = await page.evaluate(
      `[...document.querySelectorAll("#records button .kind")].map((k) => k.textContent)`,
    ) as string[];
    assert.deepEqual([...kinds].sort(), ["bench", "bootstrap", "report", "rollout"]);
    for (const kind of ["bootstrap", "rollout"]) {
      await page.click(`#records button:has(.kind:text-is("${kind}"))`);
      await waitInPage(page, `document.querySelectorAll("#detail li.step").length >= 3`);
      const states = await page.evaluate(
        `[...document.querySelectorAll("#detail li.step")].map((li) => li.dataset.state)`,
      ) as string[];
      assert.deepEqual([...new Set(states)], ["ok"], kind);
    }
    await page.click(`#records button:has(.kind:text-is("bench"))`);
    await waitInPage(page, `document.querySelectorAll("#detail figure.chart").length === 3`);
    const points = await page.evaluate(
      `[...document.querySelectorAll("#detail figure.chart")].map((f) => Number(f.dataset.points))`,
    ) as number[];
    for (const n of points) assert.ok(n >= 2, `${points}`);
    await frame("#detail iframe", /latency/i);
    await page.screenshot({ path: `${SCREENSHOTS}results.png`, fullPage: true });
    assertOnlyFromTask(watched, task.url);
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Showing 3 records of /);
}
