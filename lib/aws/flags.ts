/**
 * The flags and setup shared by the AWS tasks (bootstrap:aws, bake, teardown --provider aws):
 * `--region` (checked against the known regions, before anything is created), the region
 * resolution of the standard AWS configuration, and a preflight that turns missing credentials or
 * an unreachable endpoint into one line.
 */
import { UsageError } from "../errors.ts";
import { flag } from "../flags.ts";
import { awsFailure } from "./aws_error.ts";
import type { AwsClients } from "./clients.ts";
import { validateRegion } from "./regions.ts";

export const regionFlag = flag.string(
  "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's region)",
  {
    placeholder: "REGION",
    validate: validateRegion,
    expected: "a known AWS region like us-east-1",
  },
);

/** The region to use: the flag, else the standard configuration; validated. */
export async function resolveRegion(flagValue: string | undefined): Promise<string> {
  const { configuredRegion } = await import("./clients.ts");
  const region = await configuredRegion(flagValue);
  if (!region) {
    throw new UsageError(
      "No AWS region: pass --region, or set AWS_REGION (or a region in your AWS profile)",
    );
  }
  if (validateRegion(region)) {
    throw new UsageError(
      `Unknown AWS region "${region}" (from AWS_REGION or the profile): expected a known AWS region like us-east-1`,
    );
  }
  return region;
}

/** Checks credentials and the endpoint with STS GetCallerIdentity; returns the account. */
export async function checkAwsAccess(aws: AwsClients): Promise<{ account: string; arn: string }> {
  const { GetCallerIdentityCommand } = await import("@aws-sdk/client-sts");
  try {
    const id = await aws.sts.send(new GetCallerIdentityCommand({}));
    return { account: id.Account ?? "", arn: id.Arn ?? "" };
  } catch (err) {
    throw awsFailure(err, "check the AWS credentials", aws.region);
  }
}
