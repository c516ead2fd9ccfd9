/** Action: the Elastic IP the API server answers on (the master associates it at boot). */
import { AllocateAddressCommand, DescribeAddressesCommand } from "@aws-sdk/client-ec2";
import { clusterFilter, tagSpec } from "../ec2_find.ts";
import type { AwsAction } from "./context.ts";

export const apiAddress: AwsAction = {
  name: "Elastic IP for the API",
  doing: "allocate the API server's Elastic IP",
  async run(ctx) {
    const { aws, names: n, options: o, facts } = ctx;
    const found = await aws.ec2.send(
      new DescribeAddressesCommand({ Filters: [clusterFilter(o.name)] }),
    );
    const a = found.Addresses?.[0];
    if (a) {
      facts.allocationId = a.AllocationId!;
      facts.publicIp = a.PublicIp!;
      return `${facts.publicIp} exists`;
    }
    const made = await aws.ec2.send(
      new AllocateAddressCommand({
        Domain: "vpc",
        TagSpecifications: tagSpec("elastic-ip", o.name, {
          Name: `${n.prefix}-api`,
          Role: "masters",
        }),
      }),
    );
    facts.allocationId = made.AllocationId!;
    facts.publicIp = made.PublicIp!;
    return `${facts.publicIp} created`;
  },
};
