/**
 * A bootstrap:aws run made to fail after each step in turn (the test hook `failAfterStep`, set by
 * CNCFDEMO_FAIL_AFTER_STEP in the task) is completed by the next run, and teardown then leaves
 * nothing. Runs the provider's steps in-process against a real moto_server.
 */
import assert from "node:assert/strict";
import { awsBootstrapSteps, type AwsCreateOptions } from "../lib/aws/bootstrap.ts";
import { awsTeardownSteps } from "../lib/aws/teardown.ts";
import { runSteps, type Step, type StepGroup } from "../lib/steps.ts";
import { census, empty, expectedAfterBootstrap } from "./support/aws_census.ts";
import { deadline } from "../lib/wait.ts";
import { moto } from "./support/moto.ts";

const quiet = { write: () => {}, summary: false, interactive: false };

function leafNames(steps: readonly (Step | StepGroup)[]): string[] {
  return steps.flatMap((s) => "parallel" in s ? leafNames(s.parallel) : "run" in s ? [s.name] : []);
}

Deno.test("a bootstrap interrupted after any step is completed by the next run; teardown leaves nothing", async () => {
  const m = await moto();
  const image = await m.image();
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-resume-" });
  const options = (aws: AwsCreateOptions["clients"], failAfterStep?: string): AwsCreateOptions => ({
    name: "resume",
    clients: aws,
    masters: 1,
    minions: 2,
    instanceType: "t3.medium",
    imageId: image,
    apiCidr: "198.51.100.0/24",
    wait: false,
    deadline: deadline(30_000),
    kubeconfig: `${dir}/config`,
    failAfterStep,
  });
  const names = leafNames(awsBootstrapSteps(options(m.clients())));
  assert.ok(names.length >= 14, `only ${names.length} steps: ${names.join(", ")}`);
  try {
    for (const name of names) {
      await m.reset();
      const aws = m.clients();
      await assert.rejects(
        runSteps(awsBootstrapSteps(options(aws, name)), quiet),
        (err: Error) =>
          err.message === `Injected failure after step "${name}" (CNCFDEMO_FAIL_AFTER_STEP)`,
        name,
      );
      await runSteps(awsBootstrapSteps(options(aws)), quiet);
      assert.deepEqual(await census(aws), expectedAfterBootstrap(2), `after failing at "${name}"`);
      await runSteps(
        awsTeardownSteps({
          name: "resume",
          clients: aws,
          kubeconfig: `${dir}/config`,
          deadline: deadline(30_000),
        }),
        quiet,
      );
      assert.deepEqual(await census(aws), empty(), `teardown after failing at "${name}"`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("teardown completes a teardown interrupted half-way", async () => {
  const m = await moto();
  await m.reset();
  const image = await m.image();
  const aws = m.clients();
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-resume-" });
  try {
    await runSteps(
      awsBootstrapSteps({
        name: "half",
        clients: aws,
        masters: 1,
        minions: 1,
        instanceType: "t3.medium",
        imageId: image,
        apiCidr: "198.51.100.0/24",
        wait: false,
        deadline: deadline(30_000),
        kubeconfig: `${dir}/config`,
      }),
      quiet,
    );
    const steps = awsTeardownSteps({
      name: "half",
      clients: aws,
      kubeconfig: `${dir}/config`,
      deadline: deadline(30_000),
    });
    // Only the first three steps: groups, rule, instances gone; the rest still there.
    await runSteps(steps.slice(0, 3), quiet);
    const mid = await census(aws);
    assert.equal(mid["autoscaling-group"], 0);
    assert.equal(mid.vpc, 1);
    await runSteps(
      awsTeardownSteps({
        name: "half",
        clients: aws,
        kubeconfig: `${dir}/config`,
        deadline: deadline(30_000),
      }),
      quiet,
    );
    assert.deepEqual(await census(aws), empty());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
