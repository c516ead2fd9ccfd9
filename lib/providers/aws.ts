/**
 * Provider `aws`: a kubeadm cluster on EC2 as the seed designed it — a baked node image, masters
 * and minions Auto Scaling groups, and a Lambda keeping `<role>.<name>.k8s` in a private Route 53
 * zone pointed at each group's InService instances. Everything is found by the tag
 * `KubernetesCluster=<name>` (IAM and Route 53, which are global, also by `cncfdemo:region`);
 * nothing is kept locally. The kube context is `aws-<name>`. Steps: lib/aws/bootstrap.ts (the
 * actions of lib/aws/actions/, create/converge), lib/aws/teardown.ts (the deleters of
 * lib/aws/deleters.ts, delete and verify).
 */
import { DescribeVpcsCommand } from "@aws-sdk/client-ec2";
import { awsBootstrapSteps, type AwsCreateOptions } from "../aws/bootstrap.ts";
import { awsClients } from "../aws/clients.ts";
import { configuredRegion } from "../aws/clients.ts";
import { awsFailure } from "../aws/aws_error.ts";
import { CLUSTER_TAG } from "../aws/names.ts";
import { type AwsDeleteOptions, awsTeardownSteps } from "../aws/teardown.ts";
import { CncfdemoError } from "../errors.ts";
import type { Provider } from "./provider.ts";

export type { AwsCreateOptions, AwsDeleteOptions };

export const awsProvider: Provider<AwsCreateOptions, AwsDeleteOptions> = {
  id: "aws",

  contextName: (name) => `aws-${name}`,

  bootstrapSteps(o, info) {
    Object.assign(info, {
      provider: "aws",
      name: o.name,
      context: `aws-${o.name}`,
      kubeconfig: o.kubeconfig,
    });
    return awsBootstrapSteps(o, info);
  },

  teardownSteps(o) {
    return awsTeardownSteps(o);
  },

  /** Clusters in the configured region: VPCs tagged KubernetesCluster. */
  async list() {
    const region = await configuredRegion();
    if (!region) throw new CncfdemoError("No AWS region: set AWS_REGION or pass --region");
    const aws = awsClients({ region });
    try {
      const out = await aws.ec2.send(
        new DescribeVpcsCommand({
          Filters: [{ Name: "tag-key", Values: [CLUSTER_TAG] }],
        }),
      );
      const names = (out.Vpcs ?? []).flatMap((v) =>
        (v.Tags ?? []).filter((t) => t.Key === CLUSTER_TAG).map((t) => t.Value!)
      );
      return [...new Set(names)].sort();
    } catch (err) {
      throw awsFailure(err, "list the clusters", region);
    }
  },
};
