/** Action: the cluster's VPC, with DNS support and hostnames on. */
import {
  CreateVpcCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  ModifyVpcAttributeCommand,
} from "@aws-sdk/client-ec2";
import { clusterFilter, tagSpec } from "../ec2_find.ts";
import type { AwsAction } from "./context.ts";

export const vpc: AwsAction = {
  name: "VPC",
  doing: "create the VPC",
  async run(ctx) {
    const { aws, names: n, options: o } = ctx;
    const found = await aws.ec2.send(new DescribeVpcsCommand({ Filters: [clusterFilter(o.name)] }));
    let detail = "exists";
    let vpcId = found.Vpcs?.[0]?.VpcId;
    if (!vpcId) {
      const made = await aws.ec2.send(
        new CreateVpcCommand({
          CidrBlock: n.vpcCidr,
          TagSpecifications: tagSpec("vpc", o.name, { Name: n.prefix }),
        }),
      );
      vpcId = made.Vpc!.VpcId!;
      detail = "created";
    }
    ctx.facts.vpcId = vpcId;
    for (const attr of ["enableDnsSupport", "enableDnsHostnames"] as const) {
      const cur = await aws.ec2.send(
        new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: attr }),
      );
      const on = attr === "enableDnsSupport"
        ? cur.EnableDnsSupport?.Value
        : cur.EnableDnsHostnames?.Value;
      if (!on) {
        await aws.ec2.send(
          new ModifyVpcAttributeCommand({
            VpcId: vpcId,
            ...(attr === "enableDnsSupport"
              ? { EnableDnsSupport: { Value: true } }
              : { EnableDnsHostnames: { Value: true } }),
          }),
        );
        if (detail === "exists") detail = "updated DNS attributes";
      }
    }
    return `${vpcId} ${detail}`;
  },
};
