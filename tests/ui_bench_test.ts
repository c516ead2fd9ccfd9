/**
 * `bench --local --ui` against a local nginx, followed in headless Chromium: a chart that changes
 * while the load runs, a reload mid-run that catches up with every event, the summary and the end
 * shown, no console problem, no request off 127.0.0.1; the token required on every request (403
 * without it or with a wrong one, also for the stream and the assets, and for a foreign Host); no
 * write endpoint; the server listening on 127.0.0.1 only (`ss`).
 */
import assert from "node:assert/strict";
import type { BenchResult } from "../lib/bench/result.ts";
import { SECOND_CHARTS } from "../lib/ui/second_series.ts";
import { pollUntil } from "../lib/wait.ts";
import { sandbox } from "./support/env.ts";
import { freePort, startNginx } from "./support/servers.ts";
import {
  assertOnlyFromTask,
  followTask,
  listeningAddresses,
  SCREENSHOTS,
  statusOf,
  waitInPage,
} from "./support/ui_task.ts";

/** What the page knows: last event number, any gap, chart points and latest values, state. */
const PAGE_STATE = `(() => {
  const d = document.documentElement.dataset;
  const figs = [...document.querySelectorAll("figure.chart")].map((f) => ({
    series: f.dataset.series, points: Number(f.dataset.points), last: f.dataset.last }));
  const steps = [...document.querySelectorAll("#steps li.step")].map((li) =>
    li.dataset.name + ":" + li.dataset.state);
  return { seq: Number(d.seq || 0), gap: d.gap || "", state: d.state || "", figs, steps,
    summary: document.querySelector("#summary").textContent };
})()`;

interface PageState {
  seq: number;
  gap: string;
  state: string;
  figs: { series: string; points: number; last: string }[];
  steps: string[];
  summary: string;
}

Deno.test("bench --local --ui: live chart, reload catches up, token on every request, loopback only", async () => {
  const sb = await sandbox();
  const nginx = await startNginx();
  try {
    const r = await followTask(sb, "bench.ts", [
      "--local",
      "--url",
      nginx.url,
      "--time",
      "8s",
      "--connections",
      "4",
      "--per-second",
      "--results-dir",
      `${sb.dir}/results`,
      "--ui",
      "--ui-linger",
      "3m",
    ], async (task, watched) => {
      // Listening on 127.0.0.1 only.
      const addrs = await listeningAddresses(task.pid);
      assert.ok(addrs.length >= 1, `ss shows no socket of pid ${task.pid}`);
      for (const a of addrs) assert.match(a, /^127\.0\.0\.1:\d+$/);
      assert.ok(addrs.includes(`127.0.0.1:${new URL(task.url).port}`), addrs.join(", "));

      // The token on every request: page, stream, assets, data; a foreign Host; no writes.
      const token = new URL(task.url).searchParams.get("token")!;
      assert.ok(token.length >= 32, token);
      const wrong = token.slice(0, -1) + (token.endsWith("A") ? "B" : "A");
      for (const path of ["/", "/events", "/assets/chart.js", "/nothing"]) {
        assert.equal(await statusOf(task.url, (u) => (u.pathname = path, u.search = "")), 403);
        assert.equal(
          await statusOf(task.url, (u) => (u.pathname = path, u.searchParams.set("token", wrong))),
          403,
          path,
        );
      }
      assert.equal(await statusOf(task.url, (u) => (u.pathname = "/assets/chart.js")), 200);
      const post = await fetch(task.url, { method: "POST", body: "x" });
      await post.body?.cancel();
      assert.equal(post.status, 405);
      const noToken = await fetch(new URL("/", task.url), { method: "POST", body: "x" });
      await noToken.body?.cancel();
      assert.equal(noToken.status, 403);
      const rebound = await new Deno.Command("curl", {
        args: ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: evil.example", task.url],
        stdout: "piped",
      }).output();
      assert.equal(new TextDecoder().decode(rebound.stdout), "403");

      const { page } = watched;
      const state = async () => await page.evaluate(PAGE_STATE) as PageState;
      // While the load runs, each chart's latest value changes (errors: shown, all 0 here).
      const seen = new Map<string, Set<string>>();
      const changing = [SECOND_CHARTS.throughput, SECOND_CHARTS.latency, "generator CPU (cores)"];
      await pollUntil(async () => {
        const s = await state();
        for (const f of s.figs) {
          if (f.last && !task.ended()) {
            seen.set(f.series, (seen.get(f.series) ?? new Set()).add(f.last));
          }
        }
        return changing.every((c) => (seen.get(c)?.size ?? 0) >= 2) &&
          seen.has(SECOND_CHARTS.errors);
      }, {
        timeoutMs: 60_000,
        intervalMs: 200,
        maxIntervalMs: 200,
        describe: () =>
          `no chart change: ${JSON.stringify([...seen].map(([k, v]) => [k, [...v]]))}`,
      });
      assert.ok(!/Merge and write the results/.test(task.stderr()), "still loading");

      // A reload mid-run: the page catches up with every event so far, with no gap.
      const before = await state();
      await page.reload({ waitUntil: "load" });
      await waitInPage(page, `Number(document.documentElement.dataset.seq || 0) >= ${before.seq}`);
      const after = await state();
      assert.equal(after.gap, "");
      for (const s of before.steps) {
        const name = s.slice(0, s.lastIndexOf(":"));
        assert.ok(after.steps.some((x) => x.startsWith(name + ":")), `${name} after the reload`);
      }
      const fig = after.figs.find((f) => f.series === SECOND_CHARTS.throughput)!;
      assert.ok(fig.points >= before.figs.find((f) => f.series === fig.series)!.points);

      // The end: every step ✓, the summary, the state, the chart drawn.
      await waitInPage(page, `document.documentElement.dataset.state === "ok"`, 120_000);
      const end = await state();
      assert.deepEqual(end.steps.filter((s) => !s.endsWith(":ok")), []);
      assert.equal(end.steps.length, 3);
      assert.match(
        end.summary,
        /requests in \d+\.\ds: [\d.]+ requests\/s, 0 errors\nlatency ms: p50/,
      );
      const inked = await page.evaluate(`(() => {
      const c = document.querySelector("canvas");
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n / (c.width * c.height);
    })()`) as number;
      assert.ok(inked > 0.01, `chart ink ${inked}`);
      await page.screenshot({ path: `${SCREENSHOTS}bench-after.png`, fullPage: true });
      assertOnlyFromTask(watched, task.url);
    });
    assert.equal(r.code, 0, r.stderr);
    // The terminal output is the bench's, plus the address and the closing line.
    assert.equal(r.stderr.match(/^UI: http/mg)?.length, 1);
    assert.match(r.stderr, /^UI: the task has ended; its page stays open for 3m00s/m);
    assert.match(r.stdout, /results\/.+\.json\n$/);
    // The record keeps every second, and its totals are the sum of the seconds.
    const res = JSON.parse(await Deno.readTextFile(r.stdout.trim())) as BenchResult;
    assert.ok(res.per_second!.length >= 7, `${res.per_second!.length} seconds`);
    assert.equal(res.requests, res.per_second!.reduce((n, s) => n + s.responses, 0));
  } finally {
    await nginx.stop();
    await sb.cleanup();
  }
});

Deno.test("bench --local --ui against nothing: the page shows the failure, the task exits 1 after", async () => {
  const sb = await sandbox();
  try {
    const closed = `http://127.0.0.1:${freePort()}/`;
    const r = await followTask(sb, "bench.ts", [
      ...["--local", "--url", closed, "--time", "1s", "--connections", "2"],
      ...["--results-dir", `${sb.dir}/results`, "--ui", "--ui-linger", "3m"],
    ], async (task, watched) => {
      const { page } = watched;
      await waitInPage(page, `document.documentElement.dataset.state === "failed"`);
      const state = await page.evaluate(`document.querySelector("#state").textContent`);
      assert.match(
        String(state),
        /^✗ the task failed: wrk generator g0 failed: unable to connect to 127\.0\.0\.1:\d+ Connection refused$/,
      );
      const failed = await page.evaluate(
        `[...document.querySelectorAll("#steps li[data-state=failed]")].map((li) => li.dataset.name)`,
      );
      assert.deepEqual(failed, ["Run 1 generator for 1s"]);
      assertOnlyFromTask(watched, task.url);
    });
    assert.equal(r.code, 1);
    // the error is printed once, by the one printer, after the page closed
    assert.match(
      r.stderr,
      /UI: the task has ended[^\n]*\nerror: wrk generator g0 failed: unable to connect/,
    );
  } finally {
    await sb.cleanup();
  }
});
