/**
 * The HTML report opened by Debian's headless Chromium (driven by playwright-core): it renders its
 * charts with no console error and no request outside the file, and a screenshot is not blank.
 */
import assert from "node:assert/strict";
import type { BenchResult } from "../lib/bench/result.ts";
import { openInChromium } from "./support/chromium.ts";
import { sandbox } from "./support/env.ts";
import { startNginx } from "./support/servers.ts";

Deno.test("bench --save-html: a self-contained report that Chromium renders offline", async () => {
  const sb = await sandbox();
  const nginx = await startNginx();
  try {
    const results = `${sb.dir}/results`;
    const common = ["--local", "--url", nginx.url, "--time", "1s", "--connections", "4"];
    // An earlier run to compare with; then a run with two generators and the default HTML path
    // (bare --save-html followed by another flag).
    const first = await sb.task("bench.ts", [...common, "--results-dir", results]);
    assert.equal(first.code, 0, first.stderr);
    const second = await sb.task("bench.ts", [
      ...common,
      "--parallelism",
      "2",
      "--save-html",
      "--results-dir",
      results,
    ]);
    assert.equal(second.code, 0, second.stderr);
    const res = JSON.parse(await Deno.readTextFile(second.stdout.trim())) as BenchResult;
    const html = `${results}/${res.id}.html`;
    assert.match(second.stderr, new RegExp(`HTML report: ${html}`));
    const text = await Deno.readTextFile(html);
    // Nothing in the file points outside it.
    assert.doesNotMatch(text, /(src|href)\s*=\s*["']?(https?:)?\/\//i);
    assert.doesNotMatch(text, /sourceMappingURL/);

    const page = await openInChromium(html, `${results}/report.png`);
    assert.equal(page.rendered, "ok");
    assert.deepEqual(page.problems, []);
    assert.deepEqual(page.requests, [`file://${html}`]);
    // Both charts drew: their canvases hold many coloured pixels.
    assert.deepEqual(page.canvases.map((c) => c.id), ["spectrum", "history"]);
    for (const c of page.canvases) {
      assert.ok(c.inked > c.size * 0.01, `${c.id}: ${c.inked} of ${c.size}`);
    }
    // The tables carry the run's numbers.
    assert.ok(page.text.includes(res.id));
    assert.ok(page.text.includes("g1"));
    // The screenshot is not blank: many colours, a good share of non-white pixels.
    assert.ok(page.colours > 50, `${page.colours} colours`);
    assert.ok(page.nonWhite > page.pixels * 0.02, `${page.nonWhite} non-white pixels`);
  } finally {
    await nginx.stop();
    await sb.cleanup();
  }
});
