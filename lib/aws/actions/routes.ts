/** Action: the route table (0.0.0.0/0 → the internet gateway), associated with the subnets. */
import {
  AssociateRouteTableCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  DescribeRouteTablesCommand,
  ReplaceRouteCommand,
} from "@aws-sdk/client-ec2";
import { clusterFiltersIn, tagSpec } from "../ec2_find.ts";
import type { AwsAction } from "./context.ts";
import { Tally } from "./converge.ts";

export const routes: AwsAction = {
  name: "Routes",
  doing: "create the route table",
  async run(ctx) {
    const { aws, names: n, options: o } = ctx;
    const vpcId = ctx.need("vpcId");
    const igwId = ctx.need("igwId");
    const found = await aws.ec2.send(
      new DescribeRouteTablesCommand({
        Filters: clusterFiltersIn(o.name, vpcId),
      }),
    );
    const t = new Tally();
    let rt = found.RouteTables?.[0];
    if (!rt) {
      rt = (await aws.ec2.send(
        new CreateRouteTableCommand({
          VpcId: vpcId,
          TagSpecifications: tagSpec("route-table", o.name, { Name: n.prefix }),
        }),
      )).RouteTable!;
      t.created++;
    }
    const rtId = rt.RouteTableId!;
    const route = { RouteTableId: rtId, DestinationCidrBlock: "0.0.0.0/0", GatewayId: igwId };
    const def = rt.Routes?.find((r) => r.DestinationCidrBlock === "0.0.0.0/0");
    if (!def) {
      await aws.ec2.send(new CreateRouteCommand(route));
      if (!t.created) t.updated++;
    } else if (def.GatewayId !== igwId) {
      await aws.ec2.send(new ReplaceRouteCommand(route));
      t.updated++;
    }
    const associated = new Set((rt.Associations ?? []).map((a) => a.SubnetId));
    for (const id of ctx.need("subnetIds")) {
      if (associated.has(id)) continue;
      await aws.ec2.send(new AssociateRouteTableCommand({ RouteTableId: rtId, SubnetId: id }));
      if (!t.created) t.updated++;
    }
    return `${rtId}: ${t}`;
  },
};
