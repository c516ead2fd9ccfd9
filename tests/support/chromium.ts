/**
 * Test support: a self-contained HTML file opened in Debian's headless Chromium (playwright-core,
 * no network, fresh profile) — what it rendered, logged and requested, each canvas's ink, its text
 * and a screenshot (saved) — for the bench report's and the deployment-model report's tests.
 */
import { Buffer } from "node:buffer";
import { chromium } from "playwright-core";
import { PNG } from "pngjs";

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface PageCheck {
  /** `document.documentElement.dataset.rendered`: "ok" when every chart was drawn. */
  rendered: string;
  /** Console errors and warnings, page errors. */
  problems: string[];
  /** Every URL the page requested. */
  requests: string[];
  /** Each canvas: its id, inked pixels and size. */
  canvases: { id: string; inked: number; size: number }[];
  text: string;
  /** The screenshot: distinct colours and non-white pixels, of width × height. */
  colours: number;
  nonWhite: number;
  pixels: number;
}

/** Opens an HTML file in headless Chromium and reports what it did; saves the screenshot. */
export async function openInChromium(html: string, screenshot: string): Promise<PageCheck> {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1300, height: 1800 } });
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
    const rendered = await page.evaluate("document.documentElement.dataset.rendered") as string;
    // (page code as text: this file is type-checked without the DOM library)
    const canvases = await page.evaluate(`[...document.querySelectorAll("canvas")].map((c) => {
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return { id: c.id, inked: n, size: c.width * c.height };
    })`) as PageCheck["canvases"];
    const text = await page.evaluate("document.body.innerText") as string;
    const shot = PNG.sync.read(Buffer.from(await page.screenshot({ fullPage: true })));
    const colours = new Set<number>();
    let nonWhite = 0;
    for (let i = 0; i < shot.data.length; i += 4) {
      const [r, g, b] = [shot.data[i]!, shot.data[i + 1]!, shot.data[i + 2]!];
      colours.add((r << 16) | (g << 8) | b);
      if (r < 240 || g < 240 || b < 240) nonWhite++;
    }
    await Deno.writeFile(screenshot, PNG.sync.write(shot));
    return {
      rendered,
      problems,
      requests,
      canvases,
      text,
      colours: colours.size,
      nonWhite,
      pixels: shot.width * shot.height,
    };
  } finally {
    await browser.close();
  }
}
