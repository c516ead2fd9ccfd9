/**
 * Test support for `deno task report`: AWS bootstrap records made against moto_server, and a
 * report page opened in Debian's headless Chromium (driven by playwright-core) — what it logged,
 * what it requested, how much each chart drew, and whether its screenshot is blank.
 */
import { moto } from "./moto.ts";
import { sandbox } from "./env.ts";

/**
 * `bootstrap:aws --no-wait` against a fresh moto_server, its record written to `resultsDir`, then
 * `teardown --provider aws` (moto keeps nothing for the next test). Returns bootstrap's stderr.
 */
export async function awsRecords(resultsDir: string, name = "rpt"): Promise<string> {
  const m = await moto();
  await m.reset();
  const sb = await sandbox({ env: m.env });
  try {
    const up = await sb.task("bootstrap_aws.ts", [
      "--name",
      name,
      "--api-cidr",
      "198.51.100.7/32",
      "--image-id",
      await m.image(),
      "--minions",
      "1",
      "--no-wait",
      "--results-dir",
      resultsDir,
    ]);
    if (up.code !== 0) throw new Error(`bootstrap:aws failed: ${up.stderr}`);
    const down = await sb.task("teardown.ts", ["--provider", "aws", "--name", name]);
    if (down.code !== 0) throw new Error(`teardown --provider aws failed: ${down.stderr}`);
    return up.stderr;
  } finally {
    await sb.cleanup();
  }
}
