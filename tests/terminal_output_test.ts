/**
 * What a user sees on a terminal while spinners draw: `rollout` (parallel tracks "Application" and
 * "Monitoring", each wave a spinner) run under a pseudo-terminal on a simulated cluster; the
 * stream replayed as a terminal shows it, every ✓ line of the timeline must be there, whole.
 */
import assert from "node:assert/strict";
import { replayTerminal, runInPty } from "./support/terminal.ts";
import { withSimCluster } from "./support/sim_cluster.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const COLUMNS = 160;

/** One row of the timeline printed at the end: the step's status, depth, name, time and detail. */
interface Row {
  mark: string;
  depth: number;
  name: string;
  time: string;
  detail: string;
}

const TIME = /^ *(\d+ms|\d+\.\d+s|\d+m\d\ds|\d+h\d\dm|\?)$/;

/**
 * Parses the timeline block (`  ✓ <name padded to W>  <time padded to 7>[  <detail>]`). The width
 * W is the same for every row; it is the one width at which every row splits cleanly.
 */
function parseTimeline(lines: readonly string[]): Row[] {
  const start = lines.findIndex((l) => l.startsWith("Timeline (total "));
  assert.ok(start >= 0, "no timeline printed");
  const body: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (!/^ {2}[✓✗] /.test(l)) break;
    body.push(l);
  }
  const longest = Math.max(...body.map((l) => l.length));
  const widths: number[] = [];
  for (let w = 10; w <= longest; w++) {
    const fits = body.every((l) =>
      l.slice(4 + w, 6 + w) === "  " && TIME.test(l.slice(6 + w, 13 + w)) &&
      (l.length === 13 + w || l.slice(13 + w, 15 + w) === "  ")
    );
    if (fits) widths.push(w);
  }
  assert.equal(widths.length, 1, `cannot split the timeline into columns:\n${body.join("\n")}`);
  const w = widths[0]!;
  return body.map((l) => {
    const field = l.slice(4, 4 + w).trimEnd();
    const name = field.trimStart();
    return {
      mark: l[2]!,
      depth: (field.length - name.length) / 2,
      name,
      time: l.slice(6 + w, 13 + w).trim(),
      detail: l.slice(15 + w),
    };
  });
}

Deno.test("replayTerminal: redraws, erases and wrapping as a terminal shows them", () => {
  assert.deepEqual(replayTerminal("abc\r\x1b[Kxy\n", 80), ["xy"]);
  assert.deepEqual(
    replayTerminal("one\r\n⠋ spin\r\n\x1b[1A\r\x1b[0Jtwo\r\n⠙ spin", 80),
    ["one", "two", "⠙ spin"],
  );
  assert.deepEqual(replayTerminal("\x1b[32mgreen\x1b[0m abcdef", 8), ["green ab", "cdef"]);
  // What a torn line looks like: a log line written while the cursor sits inside a redraw.
  assert.deepEqual(replayTerminal("⠋ a\r\ncreated 3\x1b[1A\r\x1b[0Jcreated\r\n", 80), [
    "created",
  ]);
});

Deno.test("rollout on a terminal: every step line of the parallel tracks arrives whole", async () => {
  await withSimCluster(["--nodes", "2"], async ({ sb }) => {
    const env: Record<string, string> = { ...sb.env, TERM: "xterm-256color" };
    delete env["CI"];
    delete env["NO_COLOR"];
    for (const key of ["PATH", "HOME", "DENO_DIR"]) {
      const v = Deno.env.get(key);
      if (v !== undefined && !(key in env)) env[key] = v;
    }
    const r = await runInPty(
      Deno.execPath(),
      ["run", "-A", `${ROOT}tasks/rollout.ts`, "--set", "mongo.persistence.enabled=false"],
      { env, cwd: ROOT, columns: COLUMNS },
    );
    const seen = replayTerminal(r.raw, COLUMNS);
    assert.equal(r.code, 0, seen.join("\n"));
    // Spinners drew: the stream has cursor-up redraws, not only plain lines.
    const cursorUp = new RegExp(String.raw`\x1b\[\d*A`);
    assert.match(r.raw, cursorUp, "no spinner was drawn: the run was not interactive");
    const rows = parseTimeline(seen);
    const tracks = rows.filter((x) => x.name === "Application" || x.name === "Monitoring");
    assert.equal(tracks.length, 2, "the parallel tracks are missing from the timeline");
    const live = seen.slice(0, seen.findIndex((l) => l.startsWith("Timeline (total ")));
    const missing = rows.filter((x) => x.mark === "✓").map((x) =>
      `${"  ".repeat(x.depth)}✓ ${x.name} (${x.time})${x.detail ? ` — ${x.detail}` : ""}`
    ).filter((expected) => !live.includes(expected));
    assert.deepEqual(
      missing,
      [],
      `step lines lost or torn; the terminal showed:\n${live.join("\n")}`,
    );
    // Nothing else was torn either: no line carries a step mark anywhere but at its start.
    const torn = live.filter((l) => /\S.*[✓✗•] /.test(l.replace(/^ *[✓✗•] /, "")));
    assert.deepEqual(torn, []);
  });
});
