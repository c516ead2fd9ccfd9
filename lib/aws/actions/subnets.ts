/** Action: one public subnet per zone, tagged for Kubernetes' load balancers. */
import {
  CreateSubnetCommand,
  DescribeSubnetsCommand,
  ModifySubnetAttributeCommand,
} from "@aws-sdk/client-ec2";
import { clusterFiltersIn, tagSpec } from "../ec2_find.ts";
import { k8sClusterTag } from "../names.ts";
import type { AwsAction } from "./context.ts";
import { Tally } from "./converge.ts";

export const subnets: AwsAction = {
  name: "Subnets",
  doing: "create the subnets",
  async run(ctx) {
    const { aws, names: n, options: o } = ctx;
    const vpcId = ctx.need("vpcId");
    const zones = ctx.need("zones");
    const found = await aws.ec2.send(
      new DescribeSubnetsCommand({
        Filters: clusterFiltersIn(o.name, vpcId),
      }),
    );
    const t = new Tally();
    const ids: string[] = [];
    for (const [i, zone] of zones.entries()) {
      let sub = found.Subnets?.find((x) => x.AvailabilityZone === zone);
      if (!sub) {
        const made = await aws.ec2.send(
          new CreateSubnetCommand({
            VpcId: vpcId,
            AvailabilityZone: zone,
            CidrBlock: n.subnetCidrs[i]!,
            TagSpecifications: tagSpec("subnet", o.name, {
              Name: `${n.prefix}-${zone}`,
              [k8sClusterTag(o.name)]: "owned",
              "kubernetes.io/role/elb": "1",
            }),
          }),
        );
        sub = made.Subnet!;
        t.created++;
      }
      if (!sub.MapPublicIpOnLaunch) {
        await aws.ec2.send(
          new ModifySubnetAttributeCommand({
            SubnetId: sub.SubnetId!,
            MapPublicIpOnLaunch: { Value: true },
          }),
        );
      }
      ids.push(sub.SubnetId!);
    }
    ctx.facts.subnetIds = ids;
    return `${ids.length} in ${zones.join(", ")}: ${t}`;
  },
};
