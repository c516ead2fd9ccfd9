/**
 * The HTML report opened by Debian's headless Chromium (driven by playwright-core): it renders its
 * charts with no console error and no request outside the file, and a screenshot is not blank.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { PNG } from "pngjs";
import { Buffer } from "node:buffer";
import type { BenchResult } from "../lib/bench/result.ts";
import { sandbox } from "./support/env.ts";
import { startNginx } from "./support/servers.ts";

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

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

    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_ARGS,
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 1800 } });
      const problems: string[] = [];
      const requests: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") {
          problems.push(`${m.type()}: ${m.text()}`);
        }
      });
      page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
      page.on("request", (r) => requests.push(r.url()));
      await page.goto(`file://${html}`, { waitUntil: "load" });
      await page.waitForFunction("document.documentElement.dataset.rendered !== undefined");
      assert.equal(await page.evaluate("document.documentElement.dataset.rendered"), "ok");
      assert.deepEqual(problems, []);
      assert.deepEqual(requests, [`file://${html}`]);

      // Both charts drew: their canvases hold many coloured pixels.
      // (page code as text: this file is type-checked without the DOM library)
      const inked = await page.evaluate(`[...document.querySelectorAll("canvas")].map((c) => {
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return { id: c.id, inked: n, size: c.width * c.height };
      })`) as { id: string; inked: number; size: number }[];
      assert.deepEqual(inked.map((c) => c.id), ["spectrum", "history"]);
      for (const c of inked) assert.ok(c.inked > c.size * 0.01, `${c.id}: ${c.inked} of ${c.size}`);
      // The tables carry the run's numbers.
      const body = await page.evaluate("document.body.innerText") as string;
      assert.ok(body.includes(res.id));
      assert.ok(body.includes("g1"));

      // The screenshot is not blank: many colours, a good share of non-white pixels.
      const shot = PNG.sync.read(Buffer.from(await page.screenshot({ fullPage: true })));
      const colours = new Set<number>();
      let nonWhite = 0;
      for (let i = 0; i < shot.data.length; i += 4) {
        const [r, g, b] = [shot.data[i]!, shot.data[i + 1]!, shot.data[i + 2]!];
        colours.add((r << 16) | (g << 8) | b);
        if (r < 240 || g < 240 || b < 240) nonWhite++;
      }
      await Deno.writeFile(`${results}/report.png`, PNG.sync.write(shot));
      assert.ok(colours.size > 50, `${colours.size} colours`);
      assert.ok(nonWhite > (shot.width * shot.height) * 0.02, `${nonWhite} non-white pixels`);
    } finally {
      await browser.close();
    }
  } finally {
    await nginx.stop();
    await sb.cleanup();
  }
});
