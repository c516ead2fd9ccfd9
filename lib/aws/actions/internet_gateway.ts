/** Action: the internet gateway, attached to the VPC. */
import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  DescribeInternetGatewaysCommand,
} from "@aws-sdk/client-ec2";
import { clusterFilter, tagSpec } from "../ec2_find.ts";
import type { AwsAction } from "./context.ts";

export const internetGateway: AwsAction = {
  name: "Internet gateway",
  doing: "create the internet gateway",
  async run(ctx) {
    const { aws, names: n, options: o } = ctx;
    const vpcId = ctx.need("vpcId");
    const found = await aws.ec2.send(
      new DescribeInternetGatewaysCommand({ Filters: [clusterFilter(o.name)] }),
    );
    let igw = found.InternetGateways?.[0];
    let detail = "exists";
    if (!igw) {
      igw = (await aws.ec2.send(
        new CreateInternetGatewayCommand({
          TagSpecifications: tagSpec("internet-gateway", o.name, { Name: n.prefix }),
        }),
      )).InternetGateway!;
      detail = "created";
    }
    const igwId = igw.InternetGatewayId!;
    ctx.facts.igwId = igwId;
    if (!igw.Attachments?.some((a) => a.VpcId === vpcId)) {
      await aws.ec2.send(
        new AttachInternetGatewayCommand({ InternetGatewayId: igwId, VpcId: vpcId }),
      );
      if (detail === "exists") detail = "attached";
    }
    return `${igwId} ${detail}`;
  },
};
