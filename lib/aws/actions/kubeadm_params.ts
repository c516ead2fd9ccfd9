/** Action: the kubeadm init and join configurations the nodes read from SSM at boot. */
import { GetParametersCommand, PutParameterCommand } from "@aws-sdk/client-ssm";
import { initConfiguration, joinConfiguration } from "../kubeadm_config.ts";
import type { AwsAction } from "./context.ts";
import { Tally } from "./converge.ts";

export const kubeadmParams: AwsAction = {
  name: "kubeadm configuration",
  doing: "store the kubeadm configuration in SSM",
  async run(ctx) {
    const { aws, names: n, options: o } = ctx;
    const input = {
      clusterName: o.name,
      apiHost: n.apiHost,
      publicIp: ctx.need("publicIp"),
      token: ctx.need("token"),
      caCertHash: ctx.need("caCertHash"),
    };
    const want: Record<string, string> = {
      [n.param.kubeadmInit]: initConfiguration(input),
      [n.param.kubeadmJoin]: joinConfiguration(input),
    };
    const got = await aws.ssm.send(
      new GetParametersCommand({ Names: Object.keys(want), WithDecryption: true }),
    );
    const have = new Map((got.Parameters ?? []).map((p) => [p.Name!, p.Value]));
    const t = new Tally();
    for (const [name, value] of Object.entries(want)) {
      if (have.get(name) === value) continue;
      await aws.ssm.send(
        new PutParameterCommand({
          Name: name,
          Value: value,
          Type: "SecureString",
          Description: `cncfdemo ${o.name}: kubeadm configuration`,
          ...(have.has(name) ? { Overwrite: true } : { Tags: ctx.tags() }),
        }),
      );
      if (have.has(name)) t.updated++;
      else t.created++;
    }
    return t.toString();
  },
};
