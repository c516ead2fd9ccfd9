/**
 * `teardown --provider aws` as one call for the provider registry (lib/providers/providers.ts):
 * resolve the region, check access, run the provider's teardown steps and report the AWS API
 * calls made.
 */
import { isVerbose, log } from "../log.ts";
import { runSteps } from "../steps.ts";
import type { Deadline } from "../wait.ts";
import { awsClients } from "./clients.ts";
import { checkAwsAccess, resolveRegion } from "./flags.ts";
import { awsTeardownSteps } from "./teardown.ts";

export interface AwsTeardownInput {
  name: string;
  region?: string | undefined;
  kubeconfig: string;
  deadline: Deadline;
}

/** Deletes cluster `name` on AWS; throws (listing leftovers) when anything is still there. */
export async function awsTeardown(i: AwsTeardownInput): Promise<void> {
  const region = await resolveRegion(i.region);
  const aws = awsClients({ region });
  const started = performance.now();
  await checkAwsAccess(aws); // one line when credentials or the endpoint are missing
  try {
    await runSteps(awsTeardownSteps({ ...i, clients: aws }));
  } finally {
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    log.info(`${aws.calls.summary()} in ${secs}s`);
    if (isVerbose()) { for (const line of aws.calls.details()) log.info(`  ${line}`); }
  }
}
