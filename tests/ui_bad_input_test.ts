/** Bad input around the browser view: one line saying what is wrong, exit code 2, no server. */
import assert from "node:assert/strict";
import { sandbox } from "./support/env.ts";

Deno.test("--ui-linger and deno task ui: bad input in one line", async () => {
  const sb = await sandbox();
  try {
    for (
      const [file, args, error] of [
        [
          "rollout.ts",
          ["--ui", "--ui-linger", "5x"],
          'error: Cannot parse --ui-linger "5x": expected a duration like 30s or 5m\n',
        ],
        [
          "bench.ts",
          ["--local", "--url", "http://127.0.0.1:9/", "--ui-linger", "5s"],
          "error: --ui-linger goes with --ui: add --ui, or drop --ui-linger\n",
        ],
        [
          "bench.ts",
          ["--url", "http://127.0.0.1:9/", "--per-second", "--ui"],
          "error: --per-second goes with --local, without the cluster: the per-second generator runs on this machine and counts errors by class only\n",
        ],
        [
          "ui.ts",
          ["--results-dir", `${sb.dir}/none`],
          `error: Cannot read results from ${sb.dir}/none: no such directory; pass --results-dir, or make some with deno task demo, bench, bootstrap:* or rollout\n`,
        ],
        [
          "ui.ts",
          ["--ui"],
          "error: Unknown flag --ui for deno task ui: see --help for the flags it takes\n",
        ],
      ] as const
    ) {
      const r = await sb.task(file, [...args]);
      assert.equal(r.stderr, error, `${file} ${args.join(" ")}`);
      assert.equal(r.code, 2);
    }
  } finally {
    await sb.cleanup();
  }
});
