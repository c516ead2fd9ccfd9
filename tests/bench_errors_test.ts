/**
 * Bad input and unreachable services: one line on stderr, a non-zero exit, and no result file.
 */
import assert from "node:assert/strict";
import { exists } from "../lib/paths.ts";
import { sandbox } from "./support/env.ts";
import { freePort, startNginx } from "./support/servers.ts";

const cases: {
  name: string;
  args: (url: string, dir: string) => string[];
  code: number;
  message: RegExp;
}[] = [
  {
    name: "--time 5x",
    args: (url) => ["--local", "--url", url, "--time", "5x"],
    code: 2,
    message:
      /^error: Cannot parse --time "5x": expected a duration like 30s or 5m, at least 1\.0s$/,
  },
  {
    name: "--connections 0",
    args: (url) => ["--local", "--url", url, "--connections", "0"],
    code: 2,
    message: /^error: Cannot parse --connections "0": expected a whole number from 1 to 100000$/,
  },
  {
    name: "--url notaurl",
    args: () => ["--local", "--url", "notaurl"],
    code: 2,
    message: /^error: Cannot parse --url "notaurl": expected an http:\/\/ or https:\/\/ URL$/,
  },
  {
    name: "--local without --url",
    args: () => ["--local"],
    code: 2,
    message: /^error: --local needs --url/,
  },
  {
    name: "fewer connections than threads",
    args: (url) => ["--local", "--url", url, "--connections", "1", "--threads", "2"],
    code: 2,
    message: /^error: --connections 1 is fewer than --threads 2/,
  },
  {
    name: "an unreachable Pushgateway",
    args: (url) => [
      "--local",
      "--url",
      url,
      "--time",
      "1s",
      "--pushgateway",
      `http://127.0.0.1:${freePort()}`,
    ],
    code: 1,
    message:
      /^error: Cannot reach the Pushgateway at http:\/\/127\.0\.0\.1:\d+: connection refused$/,
  },
  {
    name: "a target that is down",
    args: () => ["--local", "--url", `http://127.0.0.1:${freePort()}/`, "--time", "1s"],
    code: 1,
    message:
      /^error: wrk generator g0 failed: unable to connect to 127\.0\.0\.1:\d+ Connection refused$/,
  },
];

Deno.test("bench: bad input and unreachable services fail in one line, with no result file", async (t) => {
  const sb = await sandbox();
  const nginx = await startNginx();
  try {
    for (const c of cases) {
      await t.step(c.name, async () => {
        const dir = `${sb.dir}/results-${c.name.replace(/\W+/g, "-")}`;
        const r = await sb.task("bench.ts", [
          ...c.args(nginx.url, dir),
          "--results-dir",
          dir,
          "--save-html",
        ]);
        assert.equal(r.code, c.code, r.stderr);
        const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
        assert.equal(errors.length, 1, r.stderr);
        assert.match(errors[0]!, c.message);
        assert.equal(r.stdout, "");
        assert.equal(await exists(dir), false, `${dir} was created`);
      });
    }
  } finally {
    await nginx.stop();
    await sb.cleanup();
  }
});
