/** Action: the DNS Lambda's log group, kept 14 days. */
import {
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
  PutRetentionPolicyCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { awsErrorName } from "../aws_error.ts";
import { CLUSTER_TAG } from "../names.ts";
import type { AwsAction } from "./context.ts";

export const logGroup: AwsAction = {
  name: "Lambda log group",
  doing: "create the Lambda's log group",
  async run(ctx) {
    const { aws, names: n, options: o } = ctx;
    const found = await aws.logs.send(
      new DescribeLogGroupsCommand({ logGroupNamePrefix: n.logGroup }),
    );
    if (found.logGroups?.some((g) => g.logGroupName === n.logGroup)) return "exists";
    await aws.logs.send(
      new CreateLogGroupCommand({ logGroupName: n.logGroup, tags: { [CLUSTER_TAG]: o.name } }),
    ).catch((err) => {
      if (awsErrorName(err) !== "ResourceAlreadyExistsException") throw err;
    });
    await aws.logs.send(
      new PutRetentionPolicyCommand({ logGroupName: n.logGroup, retentionInDays: 14 }),
    );
    return "created";
  },
};
