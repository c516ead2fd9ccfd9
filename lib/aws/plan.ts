/** The plan `bootstrap:aws --dry-run` prints: what would be created, with names and addresses. */
import { AWS_STORAGE_CLASS } from "./addons.ts";
import type { AwsCreateOptions } from "./actions/context.ts";
import { LAMBDA_RUNTIME } from "./lambda_bundle.ts";
import { CLUSTER_TAG, clusterNames, REGION_TAG } from "./names.ts";

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** A plain-text plan of what bootstrap:aws creates, for `--dry-run`. */
export function awsPlan(
  o: Omit<AwsCreateOptions, "clients" | "kubeconfig" | "deadline">,
  region: string,
): string[] {
  const n = clusterNames(o.name, region);
  return [
    `Plan for cluster "${o.name}" in ${region} (every resource tagged ${CLUSTER_TAG}=${o.name}; IAM and Route 53 also ${REGION_TAG}=${region}):`,
    `  VPC ${n.prefix} ${n.vpcCidr} with DNS support and hostnames`,
    `  2 public subnets (${n.subnetCidrs.slice(0, 2).join(", ")}) in the first two available zones`,
    `  internet gateway and route table (0.0.0.0/0 → gateway)`,
    `  security groups ${n.securityGroup.masters} (6443 from ${o.apiCidr}) and ${n.securityGroup.minions}; all traffic between them; SSH ${
      o.sshCidr ? `from ${o.sshCidr}` : "closed"
    }`,
    `  Elastic IP for the API server`,
    `  IAM roles ${n.role.masters}, ${n.role.minions}, ${n.role.lambda} (path ${n.iamPath}) and instance profiles`,
    `  SSM SecureString parameters under ${n.ssmPrefix}/: CA, bootstrap token, kubeadm init/join configuration`,
    `  private hosted zone ${n.zone} ("${n.zoneComment}")`,
    `  Lambda ${n.function} (${LAMBDA_RUNTIME}, lambda/dns.ts) with log group ${n.logGroup}`,
    `  EventBridge rule ${n.rule}: Auto Scaling launch/terminate of the two groups → Lambda`,
    `  launch templates ${n.launchTemplate.masters}, ${n.launchTemplate.minions} (${o.instanceType}, image ${
      o.imageId ?? "newest baked cncfdemo image"
    }, IMDSv2)`,
    `  Auto Scaling groups ${n.group.masters} (${
      plural(o.masters, "instance")
    }), ${n.group.minions} (${plural(o.minions, "instance")})`,
    o.wait
      ? `  then wait for ${n.apiHost}, ${n.param.adminConf} and /readyz, and merge context aws-${o.name}`
      : "  no wait (--no-wait)",
    ...(o.wait && o.addons !== false
      ? [
        `  then apply the add-ons: kubelet-csr-approver (kubelet serving certificates from the cluster CA), metrics-server, the EBS CSI driver and the default StorageClass ${AWS_STORAGE_CLASS}; wait for them and the metrics API`,
      ]
      : []),
  ];
}
