/**
 * `deno task experiment` with bad input: one line saying what is wrong and what to do, exit code
 * 2, no stack trace, nothing written — before any cluster is contacted.
 */
import assert from "node:assert/strict";
import { exists } from "../lib/paths.ts";
import { sandbox } from "./support/env.ts";

const CASES: [string[], RegExp][] = [
  [["boom"], /^error: Unknown experiment "boom": expected one of chaos, autoscale, background$/],
  [
    [],
    /^error: Missing argument for deno task experiment: usage is .*chaos\|autoscale\|background/,
  ],
  [
    ["chaos", "--target", "pod/web"],
    /^error: Cannot use --target "pod\/web": expected deployment\/NAME/,
  ],
  [["chaos", "--at", "60s"], /^error: --at 60s is not before the end \(--time 60s\)/],
  [["chaos", "--signal", "TERM"], /^error: .*--signal.*KILL/],
  [
    ["autoscale", "--step-at", "1500ms", "--time", "10s"],
    /^error: --step-at must be whole seconds/,
  ],
  [
    ["background", "--background", "statefulset/x"],
    /^error: Cannot use --background "statefulset\/x"/,
  ],
  [["chaos", "--rate", "0"], /^error: .*--rate/],
];

Deno.test("experiment: bad input is refused in one line with exit code 2", async () => {
  const sb = await sandbox();
  try {
    for (const [args, want] of CASES) {
      const results = `${sb.dir}/results`;
      const r = await sb.task("experiment.ts", [...args, "--results-dir", results]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(lines[0]!, want);
      assert.equal(r.stdout, "");
      assert.equal(await exists(results), false);
    }
  } finally {
    await sb.cleanup();
  }
});
