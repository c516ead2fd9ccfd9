/**
 * Test support for the browser view: a task run with `--ui` as a subprocess (its address read from
 * stderr as it is printed), a headless Chromium page following it (console problems and every
 * request recorded), and the listening sockets of a process (`ss -ltnp`).
 */
import assert from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";
import { pollUntil } from "../../lib/wait.ts";
import { CHROMIUM_ARGS } from "./chromium.ts";
import type { Sandbox } from "./env.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
/** Where the tests save their screenshots of the page (not committed). */
export const SCREENSHOTS = `${ROOT}screenshots/`;

export interface UiTask {
  /** The page's address as printed (`UI: http://127.0.0.1:PORT/?token=…`). */
  url: string;
  pid: number;
  /** stderr so far. */
  stderr(): string;
  /** Whether the task said it ended (it lingers then). */
  ended(): boolean;
  /** Ctrl-C (SIGINT) if still running, then its exit code and output. */
  stop(): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Starts `deno run -A tasks/<file> --ui …` and waits until it prints its address. */
export async function startUiTask(sb: Sandbox, file: string, args: string[]): Promise<UiTask> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}tasks/${file}`, ...args],
    env: sb.env,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let err = "";
  let out = "";
  const pumps = [
    (async () => {
      for await (const c of child.stderr.pipeThrough(new TextDecoderStream())) err += c;
    })(),
    (async () => {
      for await (const c of child.stdout.pipeThrough(new TextDecoderStream())) out += c;
    })(),
  ];
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async () => {
    if (!exited) child.kill("SIGINT");
    const s = await status;
    await Promise.all(pumps);
    return { code: s.code, stdout: out, stderr: err };
  };
  let url = "";
  try {
    await pollUntil(() => {
      if (exited) throw new Error(`the task exited before printing its address:\n${err}`);
      url = /^UI: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(err)?.[1] ?? "";
      return Promise.resolve(url !== "");
    }, {
      timeoutMs: 180_000,
      intervalMs: 50,
      maxIntervalMs: 100,
      describe: () => `no UI address in:\n${err}`,
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    url,
    pid: child.pid,
    stderr: () => err,
    ended: () => /^UI: the task has ended/m.test(err),
    stop,
  };
}

export interface WatchedPage {
  browser: Browser;
  page: Page;
  /** Console errors and warnings, page errors. */
  problems: string[];
  /** Every URL requested. */
  requests: string[];
}

/** Headless Chromium (no network beyond loopback use, fresh profile) on the page at `url`. */
export async function openPage(url: string): Promise<WatchedPage> {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const page = await browser.newPage({ viewport: { width: 1300, height: 1400 } });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(url, { waitUntil: "load" });
  return { browser, page, problems, requests };
}

/** The local addresses a process listens on for TCP, from `ss -ltnp`. */
export async function listeningAddresses(pid: number): Promise<string[]> {
  const out = await new Deno.Command("ss", { args: ["-ltnpH"], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split("\n")
    .filter((l) => l.includes(`pid=${pid},`))
    .map((l) => l.trim().split(/\s+/)[3]!);
}

/** What a request to `url` (changed by `change`) answers: its status. */
export async function statusOf(url: string, change: (u: URL) => void = () => {}): Promise<number> {
  const u = new URL(url);
  change(u);
  const res = await fetch(u);
  await res.body?.cancel();
  return res.status;
}

/**
 * Waits until `expression` is true in the page (page.waitForFunction would evaluate it with eval,
 * which the page's Content Security Policy forbids).
 */
export async function waitInPage(
  page: Page,
  expression: string,
  timeoutMs = 60_000,
): Promise<void> {
  await pollUntil(async () => (await page.evaluate(expression)) === true, {
    timeoutMs,
    intervalMs: 100,
    maxIntervalMs: 250,
    describe: () => `not true in the page within ${timeoutMs} ms: ${expression}`,
  });
}

/** No console problem, and every request the page made went to the task's server with its token. */
export function assertOnlyFromTask(w: WatchedPage, url: string): void {
  assert.deepEqual(w.problems, []);
  const u = new URL(url);
  const token = u.searchParams.get("token")!;
  assert.ok(w.requests.length >= 2, w.requests.join("\n"));
  for (const r of w.requests) {
    assert.ok(r.startsWith(`${u.origin}/`) && new URL(r).searchParams.get("token") === token, r);
  }
}

/**
 * Runs a task with the view, a Chromium page on it, and `fn`; then closes the page, stops the task
 * (Ctrl-C: it lingers) and returns its output — after `fn`'s own failure, if any, has surfaced.
 */
export async function followTask(
  sb: Sandbox,
  file: string,
  args: string[],
  fn: (task: UiTask, w: WatchedPage) => Promise<void>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  const task = await startUiTask(sb, file, args);
  let watched: WatchedPage | undefined;
  try {
    watched = await openPage(task.url);
    await fn(task, watched);
  } finally {
    await watched?.browser.close();
    await task.stop();
  }
  return await task.stop();
}
