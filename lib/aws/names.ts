/**
 * Every name and tag of a cluster's AWS resources, derived from the cluster name and the region
 * alone, so each run (and teardown) finds the same resources without any local state. IAM and
 * Route 53 are global: their names carry the region (a short code: `use1`, `euw1`) and they are
 * tagged with it, so a cluster of the same name in another region is another cluster.
 */
/** The tag every taggable resource of a cluster carries: `KubernetesCluster=<name>`. */
export const CLUSTER_TAG = "KubernetesCluster";
/** The tag Kubernetes' AWS cloud provider puts on what it creates (load balancers, volumes). */
export const k8sClusterTag = (name: string): string => `kubernetes.io/cluster/${name}`;

/** The tag that says which region a cluster's global resources (IAM, Route 53) belong to. */
export const REGION_TAG = "cncfdemo:region";

const DIRECTIONS: Record<string, string> = {
  north: "n",
  south: "s",
  east: "e",
  west: "w",
  central: "c",
  northeast: "ne",
  northwest: "nw",
  southeast: "se",
  southwest: "sw",
  gov: "g",
};

/**
 * A short code of a region for names with length limits (IAM role names: 64 characters):
 * `us-east-1` → `use1`, `ap-southeast-2` → `apse2`, `us-gov-west-1` → `usgw1`.
 */
export function regionCode(region: string): string {
  const parts = region.split("-");
  return parts.map((p, i) => i === 0 || i === parts.length - 1 ? p : DIRECTIONS[p] ?? p.slice(0, 2))
    .join("");
}

export type Role = "masters" | "minions";
export const ROLES: readonly Role[] = ["masters", "minions"];

export interface ClusterNames {
  cluster: string;
  region: string;
  prefix: string;
  vpcCidr: string;
  /** One /20 per zone. */
  subnetCidrs: string[];
  zone: string;
  /** What marks the private hosted zone as this cluster's in this region (its comment). */
  zoneComment: string;
  /** `/cncfdemo/<name>/<region>/`: the IAM path of the cluster's roles and instance profiles. */
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

/** The names of cluster `name`'s resources in `region`. */
export function clusterNames(name: string, region: string): ClusterNames {
  const prefix = `cncfdemo-${name}`;
  const ssmPrefix = `/cncfdemo/${name}`;
  const global = `${prefix}-${regionCode(region)}`;
  return {
    cluster: name,
    region,
    prefix,
    vpcCidr: "10.42.0.0/16",
    subnetCidrs: ["10.42.0.0/20", "10.42.16.0/20", "10.42.32.0/20"],
    zone: `${name}.k8s`,
    zoneComment: `cncfdemo cluster ${name} in ${region}`,
    iamPath: `/cncfdemo/${name}/${region}/`,
    role: { masters: `${global}-masters`, minions: `${global}-minions`, lambda: `${global}-dns` },
    profile: { masters: `${global}-masters`, minions: `${global}-minions` },
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

/** The tags of a cluster's global resources (IAM, Route 53): the cluster, its region, extras. */
export function globalTags(
  names: ClusterNames,
  extra: Record<string, string> = {},
): { Key: string; Value: string }[] {
  return clusterTags(names.cluster, { [REGION_TAG]: names.region, ...extra });
}

/** True when `tags` mark a global resource as cluster `names.cluster`'s in `names.region`. */
export function isOurs(
  tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined,
  names: ClusterNames,
): boolean {
  const has = (k: string, v: string) => (tags ?? []).some((t) => t.Key === k && t.Value === v);
  return has(CLUSTER_TAG, names.cluster) && has(REGION_TAG, names.region);
}

/** Tags as EC2/IAM/Auto Scaling want them: the cluster tag, Name, and extras. */
export function clusterTags(
  name: string,
  extra: Record<string, string> = {},
): { Key: string; Value: string }[] {
  return Object.entries({ [CLUSTER_TAG]: name, ...extra }).map(([Key, Value]) => ({ Key, Value }));
}
