/** Action: check the AWS account, pick two availability zones and find the node image. */
import { DescribeAvailabilityZonesCommand, DescribeImagesCommand } from "@aws-sdk/client-ec2";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { VERSIONS } from "../../binaries.ts";
import { CncfdemoError } from "../../errors.ts";
import { awsErrorName } from "../aws_error.ts";
import { partitionOf } from "../iam_policies.ts";
import type { AwsAction, AwsContext } from "./context.ts";

/** The tags that mark images made by `deno task bake`. */
export const IMAGE_TAGS = { "cncfdemo:image": "node", "cncfdemo:kubernetes": VERSIONS.kubernetes };

async function nodeImage(ctx: AwsContext): Promise<string> {
  const { aws, region } = ctx;
  const wanted = ctx.options.imageId;
  if (wanted) {
    const imgs = await aws.ec2.send(new DescribeImagesCommand({ ImageIds: [wanted] })).catch(
      (err) => {
        if (/InvalidAMIID/.test(awsErrorName(err) ?? "")) return { Images: [] };
        throw err;
      },
    );
    if (!imgs.Images?.length) {
      throw new CncfdemoError(
        `Image ${wanted} does not exist in ${region}: pass an image of this region to --image-id, or run "deno task bake --target ami --region ${region}"`,
      );
    }
    return wanted;
  }
  const imgs = await aws.ec2.send(
    new DescribeImagesCommand({
      Owners: ["self"],
      Filters: Object.entries(IMAGE_TAGS).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] })),
    }),
  );
  const newest = (imgs.Images ?? []).filter((i) => i.State === "available")
    .sort((a, b) => (b.CreationDate ?? "").localeCompare(a.CreationDate ?? ""))[0];
  if (!newest) {
    throw new CncfdemoError(
      `No cncfdemo node image for Kubernetes ${VERSIONS.kubernetes} in ${region}: run "deno task bake --target ami --region ${region}", or pass --image-id`,
    );
  }
  return newest.ImageId!;
}

export const checkAccess: AwsAction = {
  name: "Check AWS access",
  doing: "check the AWS account",
  async run(ctx, step) {
    const { aws, region, facts } = ctx;
    const id = await aws.sts.send(new GetCallerIdentityCommand({}));
    facts.account = id.Account!;
    facts.partition = id.Arn?.split(":")[1] ?? partitionOf(region);
    const azs = await aws.ec2.send(
      new DescribeAvailabilityZonesCommand({
        Filters: [{ Name: "state", Values: ["available"] }],
      }),
    );
    const zones = (azs.AvailabilityZones ?? [])
      .filter((z) => (z.ZoneType ?? "availability-zone") === "availability-zone")
      .map((z) => z.ZoneName!).sort().slice(0, 2);
    if (zones.length < 2) {
      throw new CncfdemoError(
        `Region ${region} has fewer than two available zones: pick another --region`,
      );
    }
    facts.zones = zones;
    step.progress("finding the node image");
    facts.imageId = await nodeImage(ctx);
    return `account ${facts.account}, zones ${zones.join(" ")}, image ${facts.imageId}`;
  },
};
