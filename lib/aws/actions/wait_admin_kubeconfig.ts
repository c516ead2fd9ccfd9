/** Action (with --wait): wait for the master to publish its admin kubeconfig in SSM. */
import { GetParameterCommand } from "@aws-sdk/client-ssm";
import { pollUntil } from "../../wait.ts";
import { awsErrorName } from "../aws_error.ts";
import type { AwsAction } from "./context.ts";

export const waitAdminKubeconfig: AwsAction = {
  name: "Wait for the admin kubeconfig",
  doing: "read the published kubeconfig",
  async run(ctx, step) {
    const { aws, names: n } = ctx;
    ctx.facts.adminConf = await pollUntil(async () => {
      try {
        const p = await aws.ssm.send(
          new GetParameterCommand({ Name: n.param.adminConf, WithDecryption: true }),
        );
        return p.Parameter?.Value;
      } catch (err) {
        if (awsErrorName(err) !== "ParameterNotFound") throw err;
        step.progress("the master has not published it yet (kubeadm init runs on first boot)");
        return undefined;
      }
    }, {
      deadline: ctx.deadline,
      intervalMs: 2_000,
      maxIntervalMs: 15_000,
      describe: () =>
        `The master did not publish ${n.param.adminConf} ${ctx.deadline.within}: read its console output (aws ec2 get-console-output) for kubeadm init errors`,
    });
    return n.param.adminConf;
  },
};
