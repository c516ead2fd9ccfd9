/**
 * The IAM policies of a cluster, least privilege: named actions only (never `*` or `service:*`),
 * resources scoped to the cluster's hosted zone, parameters and tagged resources wherever the
 * action supports resource-level permissions. Describe/List actions that AWS only allows on `*`
 * are the exception, and are read-only.
 */
import type { ClusterNames, Role } from "./names.ts";
import { CLUSTER_TAG } from "./names.ts";

export interface Statement {
  Sid?: string;
  Effect: "Allow";
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: Statement[];
}

export interface PolicyContext {
  names: ClusterNames;
  account: string;
  region: string;
  /** `Z123…` (without `/hostedzone/`). */
  zoneId: string;
  /** The partition: `aws`, `aws-cn`, `aws-us-gov`. */
  partition?: string;
}

export function partitionOf(region: string): string {
  return region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
}

/** Who may assume each role. */
export function trustPolicy(service: "ec2.amazonaws.com" | "lambda.amazonaws.com"): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

function paramArn(c: PolicyContext, name: string): string {
  return `arn:${
    c.partition ?? partitionOf(c.region)
  }:ssm:${c.region}:${c.account}:parameter${name}`;
}

const clusterCondition = (name: string) => ({
  StringEquals: { [`aws:ResourceTag/${CLUSTER_TAG}`]: name },
});

/** The DNS Lambda: read the groups and instances, change records in the cluster's zone only, log. */
export function lambdaPolicy(c: PolicyContext): PolicyDocument {
  const p = c.partition ?? partitionOf(c.region);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReadGroupsAndInstances",
        Effect: "Allow",
        Action: ["autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstances"],
        Resource: "*", // these Describe actions support no resource-level permissions
      },
      {
        Sid: "ClusterZoneRecords",
        Effect: "Allow",
        Action: ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"],
        Resource: `arn:${p}:route53:::hostedzone/${c.zoneId}`,
      },
      {
        Sid: "OwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: `arn:${p}:logs:${c.region}:${c.account}:log-group:${c.names.logGroup}:*`,
      },
    ],
  };
}

/**
 * The nodes: read their join (or init) material; masters also publish the kubeconfig and run the
 * EBS CSI driver's controller ({@link ebsCsiStatements}).
 */
export function nodePolicy(role: Role, c: PolicyContext): PolicyDocument {
  const n = c.names;
  const p = c.partition ?? partitionOf(c.region);
  const common: Statement[] = [
    {
      Sid: "DescribeForKubelet",
      Effect: "Allow",
      Action: ["ec2:DescribeInstances", "ec2:DescribeRegions", "ec2:DescribeAvailabilityZones"],
      Resource: "*", // Describe actions support no resource-level permissions
    },
    {
      Sid: "PullImagesFromEcr",
      Effect: "Allow",
      Action: [
        "ecr:GetAuthorizationToken",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
      ],
      Resource: "*",
    },
  ];
  if (role === "minions") {
    return {
      Version: "2012-10-17",
      Statement: [
        ...common,
        {
          Sid: "ReadJoinConfiguration",
          Effect: "Allow",
          Action: ["ssm:GetParameter"],
          Resource: paramArn(c, n.param.kubeadmJoin),
        },
      ],
    };
  }
  return {
    Version: "2012-10-17",
    Statement: [
      ...common,
      {
        Sid: "ReadControlPlaneSecrets",
        Effect: "Allow",
        Action: ["ssm:GetParameter"],
        Resource: [n.param.caCert, n.param.caKey, n.param.token, n.param.kubeadmInit].map((x) =>
          paramArn(c, x)
        ),
      },
      {
        Sid: "PublishKubeconfig",
        Effect: "Allow",
        Action: ["ssm:PutParameter", "ssm:AddTagsToResource"],
        Resource: paramArn(c, n.param.adminConf),
      },
      {
        Sid: "TakeTheApiAddress",
        Effect: "Allow",
        Action: ["ec2:AssociateAddress"],
        Resource: [
          `arn:${p}:ec2:${c.region}:${c.account}:elastic-ip/*`,
          `arn:${p}:ec2:${c.region}:${c.account}:instance/*`,
          `arn:${p}:ec2:${c.region}:${c.account}:network-interface/*`,
        ],
        Condition: clusterCondition(n.cluster),
      },
      {
        Sid: "DescribeAddresses",
        Effect: "Allow",
        Action: ["ec2:DescribeAddresses"],
        Resource: "*",
      },
      ...ebsCsiStatements(c),
    ],
  };
}

/**
 * The EBS CSI driver's controller (it runs on the masters, lib/aws/addons.ts): upstream's example
 * policy cut to what dynamic provisioning and attaching need (no snapshots, no resizing), and
 * every write scoped to the cluster: volumes are created only carrying `KubernetesCluster=<name>`
 * (the driver's --extra-tags), tagged only as they are created, and attached to, detached from and
 * deleted only when they and the instance carry it. Reads are Describe actions, which AWS allows
 * only on `*`.
 */
export function ebsCsiStatements(c: PolicyContext): Statement[] {
  const p = c.partition ?? partitionOf(c.region);
  const arn = (type: string) => `arn:${p}:ec2:${c.region}:${c.account}:${type}/*`;
  const name = c.names.cluster;
  return [
    {
      Sid: "EbsCsiDescribe",
      Effect: "Allow",
      Action: [
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeTags",
        "ec2:DescribeVolumes",
        "ec2:DescribeVolumesModifications",
        "ec2:DescribeVolumeStatus",
      ],
      Resource: "*", // Describe actions support no resource-level permissions
    },
    {
      Sid: "EbsCsiCreateClusterVolumes",
      Effect: "Allow",
      Action: ["ec2:CreateVolume"],
      Resource: arn("volume"),
      Condition: { StringEquals: { [`aws:RequestTag/${CLUSTER_TAG}`]: name } },
    },
    {
      Sid: "EbsCsiTagOnCreate",
      Effect: "Allow",
      Action: ["ec2:CreateTags"],
      Resource: arn("volume"),
      Condition: { StringEquals: { "ec2:CreateAction": "CreateVolume" } },
    },
    {
      Sid: "EbsCsiAttachClusterVolumes",
      Effect: "Allow",
      Action: ["ec2:AttachVolume", "ec2:DetachVolume"],
      Resource: [arn("volume"), arn("instance")],
      Condition: clusterCondition(name),
    },
    {
      Sid: "EbsCsiDeleteClusterVolumes",
      Effect: "Allow",
      Action: ["ec2:DeleteVolume"],
      Resource: arn("volume"),
      Condition: clusterCondition(name),
    },
  ];
}

/** Every action of a policy (for checks such as "no wildcard actions"). */
export function actionsOf(doc: PolicyDocument): string[] {
  return doc.Statement.flatMap((s) => s.Action);
}
