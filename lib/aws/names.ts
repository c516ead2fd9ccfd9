/**
 * Every name and tag of a cluster's AWS resources, derived from the cluster name alone, so each
 * run (and teardown) finds the same resources without any local state.
 */

/** The tag every taggable resource of a cluster carries: `KubernetesCluster=<name>`. */
export const CLUSTER_TAG = "KubernetesCluster";
/** The tag Kubernetes' AWS cloud provider puts on what it creates (load balancers, volumes). */
export const k8sClusterTag = (name: string): string => `kubernetes.io/cluster/${name}`;

export type Role = "masters" | "minions";
export const ROLES: readonly Role[] = ["masters", "minions"];

export interface ClusterNames {
  cluster: string;
  prefix: string;
  vpcCidr: string;
  /** One /20 per zone. */
  subnetCidrs: string[];
  zone: string;
  iamPath: string;
  role: Record<Role | "lambda", string>;
  profile: Record<Role, string>;
  securityGroup: Record<Role, string>;
  launchTemplate: Record<Role, string>;
  group: Record<Role, string>;
  function: string;
  logGroup: string;
  rule: string;
  ssmPrefix: string;
  param: {
    caCert: string;
    caKey: string;
    token: string;
    kubeadmInit: string;
    kubeadmJoin: string;
    adminConf: string;
  };
  /** The API server name the nodes use. */
  apiHost: string;
}

/** The names of cluster `name`'s resources. */
export function clusterNames(name: string): ClusterNames {
  const prefix = `cncfdemo-${name}`;
  const ssmPrefix = `/cncfdemo/${name}`;
  return {
    cluster: name,
    prefix,
    vpcCidr: "10.42.0.0/16",
    subnetCidrs: ["10.42.0.0/20", "10.42.16.0/20", "10.42.32.0/20"],
    zone: `${name}.k8s`,
    iamPath: `/cncfdemo/${name}/`,
    role: { masters: `${prefix}-masters`, minions: `${prefix}-minions`, lambda: `${prefix}-dns` },
    profile: { masters: `${prefix}-masters`, minions: `${prefix}-minions` },
    securityGroup: { masters: `${prefix}-masters`, minions: `${prefix}-minions` },
    launchTemplate: { masters: `${prefix}-masters`, minions: `${prefix}-minions` },
    group: { masters: `${prefix}-masters`, minions: `${prefix}-minions` },
    function: `${prefix}-dns`,
    logGroup: `/aws/lambda/${prefix}-dns`,
    rule: `${prefix}-asg-events`,
    ssmPrefix,
    param: {
      caCert: `${ssmPrefix}/ca.crt`,
      caKey: `${ssmPrefix}/ca.key`,
      token: `${ssmPrefix}/bootstrap-token`,
      kubeadmInit: `${ssmPrefix}/kubeadm-init.yaml`,
      kubeadmJoin: `${ssmPrefix}/kubeadm-join.yaml`,
      adminConf: `${ssmPrefix}/admin.conf`,
    },
    apiHost: `masters.${name}.k8s`,
  };
}

/** Tags as EC2/IAM/Auto Scaling want them: the cluster tag, Name, and extras. */
export function clusterTags(
  name: string,
  extra: Record<string, string> = {},
): { Key: string; Value: string }[] {
  return Object.entries({ [CLUSTER_TAG]: name, ...extra }).map(([Key, Value]) => ({ Key, Value }));
}
