/**
 * One deadline per task: `bootstrap:aws --timeout 5s` against moto, while the test plays the
 * DNS Lambda and the master with waits that each take about 4 s — the masters' record appears 4 s
 * after the start, the admin kubeconfig 4 s after that. With one deadline the record's wait
 * succeeds and the kubeconfig's wait ends at the 5 s deadline, the run failing with one line naming
 * the kubeconfig (had each wait its own 5 s, the kubeconfig would have been found at 8 s and the
 * run would have gone on to wait for the API server).
 */
import assert from "node:assert/strict";
import { GetFunctionCommand } from "@aws-sdk/client-lambda";
import { PutParameterCommand } from "@aws-sdk/client-ssm";
import { configFromEnv, handleEvent } from "../lambda/dns.ts";
import { clusterNames } from "../lib/aws/names.ts";
import { delay } from "../lib/wait.ts";
import { sandbox } from "./support/env.ts";
import { moto, TEST_REGION } from "./support/moto.ts";

const NAME = "deadline";

Deno.test("bootstrap:aws --timeout 5s whose waits each take 4 s ends at the deadline, naming what is not ready", async () => {
  const m = await moto();
  await m.reset();
  const sb = await sandbox({ env: m.env });
  const aws = m.clients();
  const n = clusterNames(NAME, TEST_REGION);
  try {
    const args = ["--name", NAME, "--api-cidr", "127.0.0.0/8", "--image-id", await m.image()];
    // Everything created beforehand: the timed run only converges (no writes) and then waits.
    const created = await sb.task("bootstrap_aws.ts", [...args, "--no-wait"]);
    assert.equal(created.code, 0, created.stderr);

    const started = performance.now();
    const run = sb.task("bootstrap_aws.ts", [...args, "--timeout", "5s"]);
    let finished = false;
    run.finally(() => (finished = true));
    // The DNS Lambda, 4 s in: EventBridge reports the masters' instance InService.
    await delay(4_000);
    const fn = await aws.lambda.send(new GetFunctionCommand({ FunctionName: n.function }));
    const [rec] = await handleEvent(
      { detail: { AutoScalingGroupName: n.group.masters } },
      configFromEnv(fn.Configuration!.Environment!.Variables!),
      aws,
    );
    assert.equal(rec!.record, `${n.apiHost}.`);
    // The master, 4 s later: kubeadm init done, admin.conf published.
    await Promise.race([delay(4_000), run]);
    const endedBeforePublished = finished;
    if (!finished) {
      await aws.ssm.send(
        new PutParameterCommand({
          Name: n.param.adminConf,
          Type: "SecureString",
          Value: "apiVersion: v1\nkind: Config\n",
        }),
      );
    }
    const out = await run;
    assert.equal(out.code, 1, out.stderr);
    const lines = out.stderr.trim().split("\n");
    assert.match(
      lines.at(-1)!,
      new RegExp(`^error: The master did not publish ${n.param.adminConf} within 5(\\.0)?s: `),
    );
    assert.equal(lines.filter((l) => l.startsWith("error:")).length, 1);
    assert.match(out.stderr, new RegExp(`✓ Wait for ${n.apiHost.replaceAll(".", "\\.")} `));
    assert.match(out.stderr, /✗ Wait for the admin kubeconfig/);
    assert.doesNotMatch(out.stderr, /Wait for the API server/);
    // It ended before the kubeconfig was published, 8 s in (the deadline is 5 s).
    assert.ok(
      endedBeforePublished,
      `still running ${Math.round(performance.now() - started)} ms in`,
    );
  } finally {
    await sb.cleanup();
  }
});
