/**
 * The AWS regions cncfdemo knows, checked offline before anything is created, so a typo such as
 * `us-east-7` is a one-line usage error instead of a slow connection failure.
 */

/** Region codes of the commercial, China and GovCloud partitions (2026). */
export const AWS_REGIONS: readonly string[] = [
  "af-south-1",
  "ap-east-1",
  "ap-east-2",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ap-south-1",
  "ap-south-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-southeast-3",
  "ap-southeast-4",
  "ap-southeast-5",
  "ap-southeast-6",
  "ap-southeast-7",
  "ca-central-1",
  "ca-west-1",
  "cn-north-1",
  "cn-northwest-1",
  "eu-central-1",
  "eu-central-2",
  "eu-north-1",
  "eu-south-1",
  "eu-south-2",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "il-central-1",
  "me-central-1",
  "me-south-1",
  "mx-central-1",
  "sa-east-1",
  "us-east-1",
  "us-east-2",
  "us-gov-east-1",
  "us-gov-west-1",
  "us-west-1",
  "us-west-2",
];

/** Returns undefined for a known region, or what is expected. */
export function validateRegion(region: string): string | undefined {
  return AWS_REGIONS.includes(region)
    ? undefined
    : "a known AWS region like us-east-1 or eu-west-1";
}
