/**
 * The steps of `bootstrap:aws`: each one finds its resources by the tag `KubernetesCluster=<name>`
 * (or by a name under the cluster's IAM path / SSM prefix), creates what is missing already tagged,
 * converges what differs and reports "created", "updated" or "exists". Independent steps run in
 * parallel; a run interrupted anywhere is completed by the next one. Nothing is kept locally.
 *
 * Order: check access (creates nothing) → VPC ∥ IAM roles ∥ CA and token ∥ Elastic IP ∥ log group
 * → subnets ∥ internet gateway ∥ security groups ∥ hosted zone ∥ kubeadm configuration → routes ∥
 * IAM policies → DNS Lambda + EventBridge rule ∥ launch templates → Auto Scaling groups → (waits).
 */
import {
  CreateAutoScalingGroupCommand,
  CreateOrUpdateTagsCommand,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
  PutRetentionPolicyCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  type _InstanceType,
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeAddressesCommand,
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  DescribeInternetGatewaysCommand,
  DescribeLaunchTemplatesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  type IpPermission,
  ModifyLaunchTemplateCommand,
  ModifySubnetAttributeCommand,
  ModifyVpcAttributeCommand,
  ReplaceRouteCommand,
  type RequestLaunchTemplateData,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import {
  DescribeRuleCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import {
  AddPermissionCommand,
  CreateFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetPolicyCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import {
  ChangeTagsForResourceCommand,
  CreateHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  ListTagsForResourceCommand,
} from "@aws-sdk/client-route-53";
import {
  GetParameterCommand,
  GetParametersCommand,
  PutParameterCommand,
} from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { VERSIONS } from "../binaries.ts";
import { CncfdemoError } from "../errors.ts";
import { mergeKubeEntry } from "../kube/kubeconfig.ts";
import { log } from "../log.ts";
import { parallel, type Step, step, type StepGroup } from "../steps.ts";
import { pollUntil } from "../wait.ts";
import { awsErrorName, awsStep } from "./aws_error.ts";
import type { AwsClients } from "./clients.ts";
import { clusterFilter, tagSpec, tagValue } from "./ec2_find.ts";
import {
  lambdaPolicy,
  nodePolicy,
  partitionOf,
  type PolicyContext,
  trustPolicy,
} from "./iam_policies.ts";
import { initConfiguration, joinConfiguration } from "./kubeadm_config.ts";
import { LAMBDA_HANDLER, LAMBDA_RUNTIME, lambdaPackage } from "./lambda_bundle.ts";
import {
  CLUSTER_TAG,
  type ClusterNames,
  clusterNames,
  clusterTags,
  type Role,
  ROLES,
} from "./names.ts";
import { bootstrapToken, caCertHash, makeCa, pemBody, spkiOfCert } from "./pki.ts";
import { kubeEntryFrom } from "./admin_kubeconfig.ts";
import { awsAddonSteps } from "./addons.ts";
import { userData } from "./user_data.ts";

export interface AwsCreateOptions {
  name: string;
  clients: AwsClients;
  masters: number;
  minions: number;
  instanceType: string;
  /** The node image; default: the newest image baked by `deno task bake` in the region. */
  imageId?: string | undefined;
  /** Who may reach the API server (port 6443). */
  apiCidr: string;
  /** Who may reach SSH (port 22); closed when undefined. */
  sshCidr?: string | undefined;
  /** Wait for the cluster and merge the kube context (false: stop after the Auto Scaling groups). */
  wait: boolean;
  timeoutMs: number;
  kubeconfig: string;
  /** Test hook: throw right after the step of this name succeeded. */
  failAfterStep?: string | undefined;
  /**
   * Once the API server answers, apply and wait for the cluster add-ons (lib/aws/addons.ts);
   * default true. Off only where a test stands in for the API server with its /readyz alone.
   */
  addons?: boolean | undefined;
}

/** What the steps learn and hand to each other. */
interface State {
  account: string;
  partition: string;
  zones: string[];
  imageId: string;
  vpcId: string;
  subnetIds: string[];
  igwId: string;
  sg: Record<Role, string>;
  zoneId: string;
  profileArn: Record<Role, string>;
  roleArn: Record<Role | "lambda", string>;
  caCert: string;
  caKey: string;
  caCertHash: string;
  token: string;
  allocationId: string;
  publicIp: string;
  launchTemplateId: Record<Role, string>;
  functionArn: string;
}

/** The tags that mark images made by `deno task bake`. */
export const IMAGE_TAGS = { "cncfdemo:image": "node", "cncfdemo:kubernetes": VERSIONS.kubernetes };

/** Rotate the bootstrap token when its parameter is older than this (the token lives 24 h). */
const TOKEN_ROTATE_MS = 12 * 3_600_000;

async function sha256Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, 32);
}

/** Summarises what a step did: "exists", "created 2", "created 1, updated 1". */
class Tally {
  created = 0;
  updated = 0;
  created1(): void {
    this.created++;
  }
  toString(): string {
    const parts = [];
    if (this.created) parts.push(`created ${this.created}`);
    if (this.updated) parts.push(`updated ${this.updated}`);
    return parts.length ? parts.join(", ") : "exists";
  }
}

/** An {@link awsStep} with the fault-injection test hook (CNCFDEMO_FAIL_AFTER_STEP). */
export function bootstrapStep(
  name: string,
  doing: string,
  region: string,
  failAfter: string | undefined,
  run: Step["run"],
): Step {
  const inner = awsStep(name, doing, region, run);
  return step(name, async (ctx) => {
    const detail = await inner.run(ctx);
    if (failAfter === name) {
      throw new CncfdemoError(`Injected failure after step "${name}" (CNCFDEMO_FAIL_AFTER_STEP)`);
    }
    return detail;
  });
}

/** Security group rules as comparable keys. */
function ruleKeys(perms: readonly IpPermission[] | undefined): Set<string> {
  const keys = new Set<string>();
  for (const p of perms ?? []) {
    const port = p.IpProtocol === "-1" ? "all" : `${p.IpProtocol}:${p.FromPort}-${p.ToPort}`;
    for (const r of p.IpRanges ?? []) keys.add(`${port}|cidr|${r.CidrIp}`);
    for (const g of p.UserIdGroupPairs ?? []) keys.add(`${port}|sg|${g.GroupId}`);
  }
  return keys;
}

function keyToPermission(key: string): IpPermission {
  const [port, kind, target] = key.split("|") as [string, string, string];
  const base: IpPermission = port === "all" ? { IpProtocol: "-1" } : (() => {
    const [proto, range] = port.split(":") as [string, string];
    const [from, to] = range.split("-").map(Number);
    return { IpProtocol: proto, FromPort: from!, ToPort: to! };
  })();
  return kind === "cidr"
    ? { ...base, IpRanges: [{ CidrIp: target }] }
    : { ...base, UserIdGroupPairs: [{ GroupId: target }] };
}

/** The bootstrap steps of cluster `o.name`. `info` gets the server URL and context once known. */
export function awsBootstrapSteps(
  o: AwsCreateOptions,
  info: { server?: string; context?: string } = {},
): (Step | StepGroup)[] {
  const aws = o.clients;
  const n: ClusterNames = clusterNames(o.name);
  const s = {} as State;
  const region = aws.region;
  const mk = (name: string, doing: string, run: Step["run"]) =>
    bootstrapStep(name, doing, region, o.failAfterStep, run);
  const tags = (extra: Record<string, string> = {}) => clusterTags(o.name, extra);

  const checkAccess = mk("Check AWS access", "check the AWS account", async (ctx) => {
    const id = await aws.sts.send(new GetCallerIdentityCommand({}));
    s.account = id.Account!;
    s.partition = id.Arn?.split(":")[1] ?? partitionOf(region);
    const azs = await aws.ec2.send(
      new DescribeAvailabilityZonesCommand({
        Filters: [{ Name: "state", Values: ["available"] }],
      }),
    );
    s.zones = (azs.AvailabilityZones ?? []).filter((z) =>
      (z.ZoneType ?? "availability-zone") === "availability-zone"
    )
      .map((z) => z.ZoneName!).sort().slice(0, 2);
    if (s.zones.length < 2) {
      throw new CncfdemoError(
        `Region ${region} has fewer than two available zones: pick another --region`,
      );
    }
    ctx.progress("finding the node image");
    if (o.imageId) {
      const imgs = await aws.ec2.send(new DescribeImagesCommand({ ImageIds: [o.imageId] })).catch(
        (err) => {
          if (/InvalidAMIID/.test(awsErrorName(err) ?? "")) return { Images: [] };
          throw err;
        },
      );
      if (!imgs.Images?.length) {
        throw new CncfdemoError(
          `Image ${o.imageId} does not exist in ${region}: pass an image of this region to --image-id, or run "deno task bake --target ami --region ${region}"`,
        );
      }
      s.imageId = o.imageId;
    } else {
      const imgs = await aws.ec2.send(
        new DescribeImagesCommand({
          Owners: ["self"],
          Filters: Object.entries(IMAGE_TAGS).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] })),
        }),
      );
      const newest = (imgs.Images ?? []).filter((i) =>
        i.State === "available"
      ).sort((a, b) => (b.CreationDate ?? "").localeCompare(a.CreationDate ?? ""))[0];
      if (!newest) {
        throw new CncfdemoError(
          `No cncfdemo node image for Kubernetes ${VERSIONS.kubernetes} in ${region}: run "deno task bake --target ami --region ${region}", or pass --image-id`,
        );
      }
      s.imageId = newest.ImageId!;
    }
    return `account ${s.account}, zones ${s.zones.join(" ")}, image ${s.imageId}`;
  });

  // ---- wave 1 -----------------------------------------------------------------------------------

  const vpc = mk("VPC", "create the VPC", async () => {
    const found = await aws.ec2.send(new DescribeVpcsCommand({ Filters: [clusterFilter(o.name)] }));
    let detail = "exists";
    if (found.Vpcs?.[0]) {
      s.vpcId = found.Vpcs[0].VpcId!;
    } else {
      const made = await aws.ec2.send(
        new CreateVpcCommand({
          CidrBlock: n.vpcCidr,
          TagSpecifications: tagSpec("vpc", o.name, { Name: n.prefix }),
        }),
      );
      s.vpcId = made.Vpc!.VpcId!;
      detail = "created";
    }
    for (const attr of ["enableDnsSupport", "enableDnsHostnames"] as const) {
      const cur = await aws.ec2.send(
        new DescribeVpcAttributeCommand({
          VpcId: s.vpcId,
          Attribute: attr,
        }),
      );
      const on = attr === "enableDnsSupport"
        ? cur.EnableDnsSupport?.Value
        : cur.EnableDnsHostnames?.Value;
      if (!on) {
        await aws.ec2.send(
          new ModifyVpcAttributeCommand({
            VpcId: s.vpcId,
            ...(attr === "enableDnsSupport"
              ? { EnableDnsSupport: { Value: true } }
              : { EnableDnsHostnames: { Value: true } }),
          }),
        );
        if (detail === "exists") detail = "updated DNS attributes";
      }
    }
    return `${s.vpcId} ${detail}`;
  });

  const iamRoles = mk("IAM roles and instance profiles", "create the IAM roles", async () => {
    const t = new Tally();
    s.roleArn = {} as State["roleArn"];
    s.profileArn = {} as State["profileArn"];
    await Promise.all((["masters", "minions", "lambda"] as const).map(async (r) => {
      const roleName = n.role[r];
      try {
        const got = await aws.iam.send(new GetRoleCommand({ RoleName: roleName }));
        s.roleArn[r] = got.Role!.Arn!;
      } catch (err) {
        if (awsErrorName(err) !== "NoSuchEntity" && awsErrorName(err) !== "NoSuchEntityException") {
          throw err;
        }
        const made = await aws.iam.send(
          new CreateRoleCommand({
            RoleName: roleName,
            Path: n.iamPath,
            AssumeRolePolicyDocument: trustPolicy(
              r === "lambda" ? "lambda.amazonaws.com" : "ec2.amazonaws.com",
            ),
            Description: `cncfdemo cluster ${o.name}: ${r}`,
            Tags: tags({ Role: r }),
          }),
        );
        s.roleArn[r] = made.Role!.Arn!;
        t.created1();
      }
      if (r === "lambda") return;
      const profileName = n.profile[r];
      let roles: string[] = [];
      try {
        const got = await aws.iam.send(
          new GetInstanceProfileCommand({ InstanceProfileName: profileName }),
        );
        s.profileArn[r] = got.InstanceProfile!.Arn!;
        roles = (got.InstanceProfile!.Roles ?? []).map((x) => x.RoleName!);
      } catch (err) {
        if (awsErrorName(err) !== "NoSuchEntity" && awsErrorName(err) !== "NoSuchEntityException") {
          throw err;
        }
        const made = await aws.iam.send(
          new CreateInstanceProfileCommand({
            InstanceProfileName: profileName,
            Path: n.iamPath,
            Tags: tags({ Role: r }),
          }),
        );
        s.profileArn[r] = made.InstanceProfile!.Arn!;
        t.created1();
      }
      if (!roles.includes(roleName)) {
        await aws.iam.send(
          new AddRoleToInstanceProfileCommand({
            InstanceProfileName: profileName,
            RoleName: roleName,
          }),
        );
        if (roles.length === 0 && t.created === 0) t.updated++;
      }
    }));
    return t.toString();
  });

  const secrets = mk("CA and bootstrap token", "store the cluster CA in SSM", async () => {
    const names = [n.param.caCert, n.param.caKey, n.param.token];
    const got = await aws.ssm.send(
      new GetParametersCommand({ Names: names, WithDecryption: true }),
    );
    const byName = new Map((got.Parameters ?? []).map((p) => [p.Name!, p]));
    const put = async (name: string, value: string, exists: boolean, description: string) => {
      await aws.ssm.send(
        new PutParameterCommand({
          Name: name,
          Value: value,
          Type: "SecureString",
          Description: description,
          ...(exists ? { Overwrite: true } : { Tags: tags() }),
        }),
      );
    };
    const parts: string[] = [];
    let caCert = byName.get(n.param.caCert)?.Value;
    let caKey = byName.get(n.param.caKey)?.Value;
    if (!caCert || !caKey) {
      // Both or neither: a half-written CA (interrupted run) is replaced whole.
      const ca = await makeCa();
      await put(n.param.caKey, ca.key, byName.has(n.param.caKey), `cncfdemo ${o.name}: CA key`);
      await put(n.param.caCert, ca.cert, byName.has(n.param.caCert), `cncfdemo ${o.name}: CA`);
      caCert = ca.cert;
      caKey = ca.key;
      parts.push("created the CA");
    }
    s.caCert = caCert;
    // kept for the add-ons: metrics-server's serving certificate is issued by the cluster CA
    s.caKey = caKey;
    const spki = spkiOfCert(pemBody(caCert));
    s.caCertHash = await caCertHash(spki);
    const tok = byName.get(n.param.token);
    const age = tok?.LastModifiedDate ? Date.now() - tok.LastModifiedDate.getTime() : Infinity;
    if (!tok?.Value || age > TOKEN_ROTATE_MS) {
      s.token = bootstrapToken();
      await put(
        n.param.token,
        s.token,
        byName.has(n.param.token),
        `cncfdemo ${o.name}: bootstrap token`,
      );
      parts.push(tok?.Value ? "rotated the token" : "created the token");
    } else {
      s.token = tok.Value;
    }
    return parts.length ? parts.join(", ") : "exists";
  });

  const address = mk("Elastic IP for the API", "allocate the API server's Elastic IP", async () => {
    const found = await aws.ec2.send(
      new DescribeAddressesCommand({ Filters: [clusterFilter(o.name)] }),
    );
    const a = found.Addresses?.[0];
    if (a) {
      s.allocationId = a.AllocationId!;
      s.publicIp = a.PublicIp!;
      return `${s.publicIp} exists`;
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
    s.allocationId = made.AllocationId!;
    s.publicIp = made.PublicIp!;
    return `${s.publicIp} created`;
  });

  const logGroup = mk("Lambda log group", "create the Lambda's log group", async () => {
    const found = await aws.logs.send(
      new DescribeLogGroupsCommand({ logGroupNamePrefix: n.logGroup }),
    );
    if (found.logGroups?.some((g) => g.logGroupName === n.logGroup)) return "exists";
    await aws.logs.send(
      new CreateLogGroupCommand({
        logGroupName: n.logGroup,
        tags: { [CLUSTER_TAG]: o.name },
      }),
    ).catch((err) => {
      if (awsErrorName(err) !== "ResourceAlreadyExistsException") throw err;
    });
    await aws.logs.send(
      new PutRetentionPolicyCommand({ logGroupName: n.logGroup, retentionInDays: 14 }),
    );
    return "created";
  });

  // ---- wave 2 -----------------------------------------------------------------------------------

  const subnets = mk("Subnets", "create the subnets", async () => {
    const found = await aws.ec2.send(
      new DescribeSubnetsCommand({
        Filters: [clusterFilter(o.name), { Name: "vpc-id", Values: [s.vpcId] }],
      }),
    );
    const t = new Tally();
    s.subnetIds = [];
    for (const [i, zone] of s.zones.entries()) {
      let sub = found.Subnets?.find((x) => x.AvailabilityZone === zone);
      if (!sub) {
        const made = await aws.ec2.send(
          new CreateSubnetCommand({
            VpcId: s.vpcId,
            AvailabilityZone: zone,
            CidrBlock: n.subnetCidrs[i]!,
            TagSpecifications: tagSpec("subnet", o.name, {
              Name: `${n.prefix}-${zone}`,
              [`kubernetes.io/cluster/${o.name}`]: "owned",
              "kubernetes.io/role/elb": "1",
            }),
          }),
        );
        sub = made.Subnet!;
        t.created1();
      }
      if (!sub.MapPublicIpOnLaunch) {
        await aws.ec2.send(
          new ModifySubnetAttributeCommand({
            SubnetId: sub.SubnetId!,
            MapPublicIpOnLaunch: { Value: true },
          }),
        );
      }
      s.subnetIds.push(sub.SubnetId!);
    }
    return `${s.subnetIds.length} in ${s.zones.join(", ")}: ${t}`;
  });

  const gateway = mk("Internet gateway", "create the internet gateway", async () => {
    const found = await aws.ec2.send(
      new DescribeInternetGatewaysCommand({ Filters: [clusterFilter(o.name)] }),
    );
    let igw = found.InternetGateways?.[0];
    let detail = "exists";
    if (!igw) {
      igw = (await aws.ec2.send(
        new CreateInternetGatewayCommand({
          TagSpecifications: tagSpec("internet-gateway", o.name, { Name: n.prefix }),
        }),
      )).InternetGateway!;
      detail = "created";
    }
    s.igwId = igw.InternetGatewayId!;
    if (!igw.Attachments?.some((a) => a.VpcId === s.vpcId)) {
      await aws.ec2.send(
        new AttachInternetGatewayCommand({ InternetGatewayId: s.igwId, VpcId: s.vpcId }),
      );
      if (detail === "exists") detail = "attached";
    }
    return `${s.igwId} ${detail}`;
  });

  const securityGroups = mk("Security groups", "create the security groups", async () => {
    const found = await aws.ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [clusterFilter(o.name), { Name: "vpc-id", Values: [s.vpcId] }],
      }),
    );
    const t = new Tally();
    s.sg = {} as State["sg"];
    const groups = new Map<Role, (typeof found.SecurityGroups & object)[number] | undefined>();
    for (const r of ROLES) {
      const g = found.SecurityGroups?.find((x) => x.GroupName === n.securityGroup[r]);
      if (!g) {
        const made = await aws.ec2.send(
          new CreateSecurityGroupCommand({
            GroupName: n.securityGroup[r],
            Description: `cncfdemo ${o.name} ${r}`,
            VpcId: s.vpcId,
            TagSpecifications: tagSpec("security-group", o.name, {
              Name: n.securityGroup[r],
              Role: r,
            }),
          }),
        );
        s.sg[r] = made.GroupId!;
        t.created1();
      } else {
        s.sg[r] = g.GroupId!;
      }
      groups.set(r, g);
    }
    let changed = 0;
    for (const r of ROLES) {
      const want = new Set<string>([
        `all|sg|${s.sg.masters}`,
        `all|sg|${s.sg.minions}`,
        ...(r === "masters" ? [`tcp:6443-6443|cidr|${o.apiCidr}`] : []),
        ...(o.sshCidr ? [`tcp:22-22|cidr|${o.sshCidr}`] : []),
      ]);
      const have = ruleKeys(groups.get(r)?.IpPermissions);
      const add = [...want].filter((k) => !have.has(k));
      const drop = [...have].filter((k) => !want.has(k));
      if (add.length) {
        await aws.ec2.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: s.sg[r],
            IpPermissions: add.map(keyToPermission),
          }),
        );
      }
      if (drop.length) {
        await aws.ec2.send(
          new RevokeSecurityGroupIngressCommand({
            GroupId: s.sg[r],
            IpPermissions: drop.map(keyToPermission),
          }),
        );
      }
      changed += add.length + drop.length;
    }
    if (changed && t.created === 0) t.updated = changed;
    return `API from ${o.apiCidr}, SSH ${o.sshCidr ? `from ${o.sshCidr}` : "closed"}: ${t}`;
  });

  const zone = mk(`Private hosted zone ${n.zone}`, "create the private hosted zone", async () => {
    const marker = `cncfdemo cluster ${o.name}`;
    const list = await aws.route53.send(
      new ListHostedZonesByNameCommand({ DNSName: `${n.zone}.` }),
    );
    const hit = list.HostedZones?.find((z) =>
      z.Name === `${n.zone}.` && z.Config?.PrivateZone && z.Config?.Comment === marker
    );
    let detail = "exists";
    if (hit) {
      s.zoneId = hit.Id!.replace("/hostedzone/", "");
    } else {
      const made = await aws.route53.send(
        new CreateHostedZoneCommand({
          Name: n.zone,
          CallerReference: `cncfdemo-${o.name}-${s.vpcId}`,
          HostedZoneConfig: { Comment: marker, PrivateZone: true },
          VPC: { VPCRegion: region as never, VPCId: s.vpcId },
        }),
      );
      s.zoneId = made.HostedZone!.Id!.replace("/hostedzone/", "");
      detail = "created";
    }
    // Tagged after creation (CreateHostedZone takes no tags): check, so an interrupted run is completed.
    const have = await aws.route53.send(
      new ListTagsForResourceCommand({ ResourceType: "hostedzone", ResourceId: s.zoneId }),
    );
    const tagged = have.ResourceTagSet?.Tags?.some((t) =>
      t.Key === CLUSTER_TAG && t.Value === o.name
    );
    if (!tagged) {
      await aws.route53.send(
        new ChangeTagsForResourceCommand({
          ResourceType: "hostedzone",
          ResourceId: s.zoneId,
          AddTags: tags(),
        }),
      );
      if (detail === "exists") detail = "tagged";
    }
    return `${s.zoneId} ${detail}`;
  });

  const kubeadmConfig = mk(
    "kubeadm configuration",
    "store the kubeadm configuration in SSM",
    async () => {
      const input = {
        clusterName: o.name,
        apiHost: n.apiHost,
        publicIp: s.publicIp,
        token: s.token,
        caCertHash: s.caCertHash,
      };
      const want: Record<string, string> = {
        [n.param.kubeadmInit]: initConfiguration(input),
        [n.param.kubeadmJoin]: joinConfiguration(input),
      };
      const got = await aws.ssm.send(
        new GetParametersCommand({
          Names: Object.keys(want),
          WithDecryption: true,
        }),
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
            ...(have.has(name) ? { Overwrite: true } : { Tags: tags() }),
          }),
        );
        if (have.has(name)) t.updated++;
        else t.created1();
      }
      return t.toString();
    },
  );

  // ---- wave 3 -----------------------------------------------------------------------------------

  const routes = mk("Routes", "create the route table", async () => {
    const found = await aws.ec2.send(
      new DescribeRouteTablesCommand({
        Filters: [clusterFilter(o.name), { Name: "vpc-id", Values: [s.vpcId] }],
      }),
    );
    const t = new Tally();
    let rt = found.RouteTables?.[0];
    if (!rt) {
      rt = (await aws.ec2.send(
        new CreateRouteTableCommand({
          VpcId: s.vpcId,
          TagSpecifications: tagSpec("route-table", o.name, { Name: n.prefix }),
        }),
      )).RouteTable!;
      t.created1();
    }
    const rtId = rt.RouteTableId!;
    const def = rt.Routes?.find((r) => r.DestinationCidrBlock === "0.0.0.0/0");
    if (!def) {
      await aws.ec2.send(
        new CreateRouteCommand({
          RouteTableId: rtId,
          DestinationCidrBlock: "0.0.0.0/0",
          GatewayId: s.igwId,
        }),
      );
      if (!t.created) t.updated++;
    } else if (def.GatewayId !== s.igwId) {
      await aws.ec2.send(
        new ReplaceRouteCommand({
          RouteTableId: rtId,
          DestinationCidrBlock: "0.0.0.0/0",
          GatewayId: s.igwId,
        }),
      );
      t.updated++;
    }
    const associated = new Set((rt.Associations ?? []).map((a) => a.SubnetId));
    for (const id of s.subnetIds) {
      if (associated.has(id)) continue;
      await aws.ec2.send(new AssociateRouteTableCommand({ RouteTableId: rtId, SubnetId: id }));
      if (!t.created) t.updated++;
    }
    return `${rtId}: ${t}`;
  });

  const policies = mk("IAM policies", "attach the IAM policies", async () => {
    const ctx: PolicyContext = {
      names: n,
      account: s.account,
      region,
      zoneId: s.zoneId,
      partition: s.partition,
    };
    const docs: Record<Role | "lambda", string> = {
      masters: JSON.stringify(nodePolicy("masters", ctx)),
      minions: JSON.stringify(nodePolicy("minions", ctx)),
      lambda: JSON.stringify(lambdaPolicy(ctx)),
    };
    const t = new Tally();
    await Promise.all((Object.keys(docs) as (Role | "lambda")[]).map(async (r) => {
      let current: string | undefined;
      try {
        const got = await aws.iam.send(
          new GetRolePolicyCommand({ RoleName: n.role[r], PolicyName: "cncfdemo" }),
        );
        current = got.PolicyDocument ? decodeURIComponent(got.PolicyDocument) : undefined;
      } catch (err) {
        if (awsErrorName(err) !== "NoSuchEntity" && awsErrorName(err) !== "NoSuchEntityException") {
          throw err;
        }
      }
      if (current !== undefined && sameJson(current, docs[r])) return;
      await aws.iam.send(
        new PutRolePolicyCommand({
          RoleName: n.role[r],
          PolicyName: "cncfdemo",
          PolicyDocument: docs[r],
        }),
      );
      if (current === undefined) t.created1();
      else t.updated++;
    }));
    return t.toString();
  });

  // ---- wave 4 -----------------------------------------------------------------------------------

  const dnsLambda = mk("DNS Lambda and EventBridge rule", "deploy the DNS Lambda", async (ctx) => {
    ctx.progress("bundling lambda/dns.ts");
    const pkg = await lambdaPackage();
    const env = {
      ZONE_ID: s.zoneId,
      ZONE_NAME: n.zone,
      CLUSTER: o.name,
      GROUP_ROLES: JSON.stringify({ [n.group.masters]: "masters", [n.group.minions]: "minions" }),
    };
    const parts: string[] = [];
    let fn:
      | { arn: string; sha?: string | undefined; env?: Record<string, string> | undefined }
      | undefined;
    try {
      const got = await aws.lambda.send(new GetFunctionCommand({ FunctionName: n.function }));
      fn = {
        arn: got.Configuration!.FunctionArn!,
        sha: got.Configuration!.CodeSha256,
        env: got.Configuration!.Environment?.Variables,
      };
    } catch (err) {
      if (awsErrorName(err) !== "ResourceNotFoundException") throw err;
    }
    if (!fn) {
      ctx.progress("creating the function");
      // A new role takes a few seconds to become assumable by Lambda: retry until the deadline.
      const made = await pollUntil(async () => {
        try {
          return await aws.lambda.send(
            new CreateFunctionCommand({
              FunctionName: n.function,
              Runtime: LAMBDA_RUNTIME,
              Handler: LAMBDA_HANDLER,
              Role: s.roleArn.lambda,
              Code: { ZipFile: pkg.zip },
              Description:
                `cncfdemo ${o.name}: keeps <role>.${n.zone} pointed at the Auto Scaling groups`,
              Timeout: 30,
              MemorySize: 256,
              Environment: { Variables: env },
              Tags: { [CLUSTER_TAG]: o.name },
            }),
          );
        } catch (err) {
          if (awsErrorName(err) === "InvalidParameterValueException" && /role/i.test(String(err))) {
            return undefined;
          }
          throw err;
        }
      }, {
        timeoutMs: Math.min(o.timeoutMs, 120_000),
        intervalMs: 1_000,
        maxIntervalMs: 5_000,
        describe: () => `Lambda could not assume the new role ${s.roleArn.lambda} in time`,
      });
      fn = { arn: made.FunctionArn! };
      parts.push("created the function");
    } else {
      if (fn.sha !== pkg.sha256) {
        await aws.lambda.send(
          new UpdateFunctionCodeCommand({ FunctionName: n.function, ZipFile: pkg.zip }),
        );
        parts.push("updated the code");
        // Lambda refuses another update while this one is in progress.
        await pollUntil(async () => {
          const c = await aws.lambda.send(
            new GetFunctionConfigurationCommand({ FunctionName: n.function }),
          );
          if (c.LastUpdateStatus === "Failed") {
            throw new CncfdemoError(`Updating ${n.function} failed: ${c.LastUpdateStatusReason}`);
          }
          return c.LastUpdateStatus !== "InProgress";
        }, {
          timeoutMs: Math.min(o.timeoutMs, 120_000),
          intervalMs: 500,
          maxIntervalMs: 5_000,
          describe: () => `The code update of ${n.function} did not finish in time`,
        });
      }
      if (JSON.stringify(fn.env ?? {}) !== JSON.stringify(env)) {
        await aws.lambda.send(
          new UpdateFunctionConfigurationCommand({
            FunctionName: n.function,
            Environment: { Variables: env },
          }),
        );
        parts.push("updated the configuration");
      }
    }
    s.functionArn = fn.arn;

    const pattern = JSON.stringify({
      source: ["aws.autoscaling"],
      "detail-type": ["EC2 Instance Launch Successful", "EC2 Instance Terminate Successful"],
      detail: { AutoScalingGroupName: [n.group.masters, n.group.minions] },
    });
    let ruleArn: string | undefined;
    let rulePattern: string | undefined;
    try {
      const got = await aws.events.send(new DescribeRuleCommand({ Name: n.rule }));
      ruleArn = got.Arn;
      rulePattern = got.EventPattern;
    } catch (err) {
      if (awsErrorName(err) !== "ResourceNotFoundException") throw err;
    }
    if (!ruleArn || !sameJson(rulePattern ?? "{}", pattern)) {
      const put = await aws.events.send(
        new PutRuleCommand({
          Name: n.rule,
          EventPattern: pattern,
          State: "ENABLED",
          Description: `cncfdemo ${o.name}: Auto Scaling launch/terminate → DNS Lambda`,
          ...(ruleArn ? {} : { Tags: tags() }),
        }),
      );
      parts.push(ruleArn ? "updated the rule" : "created the rule");
      ruleArn = put.RuleArn!;
    }
    const targets = await aws.events.send(new ListTargetsByRuleCommand({ Rule: n.rule }));
    if (!targets.Targets?.some((x) => x.Id === "dns-lambda" && x.Arn === s.functionArn)) {
      await aws.events.send(
        new PutTargetsCommand({
          Rule: n.rule,
          Targets: [{ Id: "dns-lambda", Arn: s.functionArn }],
        }),
      );
      parts.push("added the target");
    }
    let policy = "";
    try {
      policy = (await aws.lambda.send(new GetPolicyCommand({ FunctionName: n.function }))).Policy ??
        "";
    } catch (err) {
      if (awsErrorName(err) !== "ResourceNotFoundException") throw err;
    }
    if (!policy.includes("cncfdemo-events")) {
      await aws.lambda.send(
        new AddPermissionCommand({
          FunctionName: n.function,
          StatementId: "cncfdemo-events",
          Action: "lambda:InvokeFunction",
          Principal: "events.amazonaws.com",
          SourceArn: ruleArn,
        }),
      );
      parts.push("allowed EventBridge to invoke it");
    }
    return parts.length ? parts.join(", ") : "exists";
  });

  const launchTemplates = mk("Launch templates", "create the launch templates", async () => {
    const found = await aws.ec2.send(
      new DescribeLaunchTemplatesCommand({ Filters: [clusterFilter(o.name)] }),
    );
    const t = new Tally();
    s.launchTemplateId = {} as State["launchTemplateId"];
    await Promise.all(ROLES.map(async (r) => {
      const data: RequestLaunchTemplateData = {
        ImageId: s.imageId,
        InstanceType: o.instanceType as _InstanceType,
        IamInstanceProfile: { Arn: s.profileArn[r] },
        SecurityGroupIds: [s.sg[r]],
        UserData: btoa(userData(r, { names: n, region, allocationId: s.allocationId })),
        MetadataOptions: {
          HttpTokens: "required" as const,
          HttpEndpoint: "enabled" as const,
          HttpPutResponseHopLimit: 2,
        },
        TagSpecifications: (["instance", "volume", "network-interface"] as const).map((type) => ({
          ResourceType: type,
          Tags: tags({
            Name: `${n.prefix}-${r}`,
            Role: r,
            [`kubernetes.io/cluster/${o.name}`]: "owned",
          }),
        })),
      };
      const spec = await sha256Hex(JSON.stringify(data));
      const lt = found.LaunchTemplates?.find((x) => x.LaunchTemplateName === n.launchTemplate[r]);
      if (!lt) {
        const made = await aws.ec2.send(
          new CreateLaunchTemplateCommand({
            LaunchTemplateName: n.launchTemplate[r],
            LaunchTemplateData: data,
            TagSpecifications: tagSpec("launch-template", o.name, {
              Role: r,
              "cncfdemo:spec": spec,
            }),
          }),
        );
        s.launchTemplateId[r] = made.LaunchTemplate!.LaunchTemplateId!;
        t.created1();
        return;
      }
      s.launchTemplateId[r] = lt.LaunchTemplateId!;
      if (tagValue(lt.Tags, "cncfdemo:spec") === spec) return;
      const v = await aws.ec2.send(
        new CreateLaunchTemplateVersionCommand({
          LaunchTemplateId: lt.LaunchTemplateId!,
          LaunchTemplateData: data,
        }),
      );
      await aws.ec2.send(
        new ModifyLaunchTemplateCommand({
          LaunchTemplateId: lt.LaunchTemplateId!,
          DefaultVersion: String(v.LaunchTemplateVersion!.VersionNumber!),
        }),
      );
      await aws.ec2.send(
        new CreateTagsCommand({
          Resources: [lt.LaunchTemplateId!],
          Tags: [{ Key: "cncfdemo:spec", Value: spec }],
        }),
      );
      t.updated++;
    }));
    return t.toString();
  });

  // ---- wave 5 -----------------------------------------------------------------------------------

  const groups = mk("Auto Scaling groups", "create the Auto Scaling groups", async () => {
    const found = await aws.asg.send(
      new DescribeAutoScalingGroupsCommand({
        AutoScalingGroupNames: ROLES.map((r) => n.group[r]),
      }),
    );
    const t = new Tally();
    const sizes: string[] = [];
    for (const r of ROLES) {
      const size = r === "masters" ? o.masters : o.minions;
      sizes.push(`${r} ${size}`);
      const g = found.AutoScalingGroups?.find((x) => x.AutoScalingGroupName === n.group[r]);
      const asgTags = tags({ Role: r, Name: `${n.prefix}-${r}` }).map((tg) => ({
        ...tg,
        PropagateAtLaunch: true,
        ResourceId: n.group[r],
        ResourceType: "auto-scaling-group",
      }));
      if (!g) {
        await aws.asg.send(
          new CreateAutoScalingGroupCommand({
            AutoScalingGroupName: n.group[r],
            LaunchTemplate: { LaunchTemplateId: s.launchTemplateId[r], Version: "$Default" },
            MinSize: size,
            MaxSize: size,
            DesiredCapacity: size,
            VPCZoneIdentifier: s.subnetIds.join(","),
            Tags: asgTags,
          }),
        );
        t.created1();
        continue;
      }
      const same = g.MinSize === size && g.MaxSize === size && g.DesiredCapacity === size &&
        g.LaunchTemplate?.LaunchTemplateId === s.launchTemplateId[r] &&
        (g.VPCZoneIdentifier ?? "").split(",").sort().join(",") ===
          [...s.subnetIds].sort().join(",");
      if (!same) {
        await aws.asg.send(
          new UpdateAutoScalingGroupCommand({
            AutoScalingGroupName: n.group[r],
            LaunchTemplate: { LaunchTemplateId: s.launchTemplateId[r], Version: "$Default" },
            MinSize: size,
            MaxSize: size,
            DesiredCapacity: size,
            VPCZoneIdentifier: s.subnetIds.join(","),
          }),
        );
        t.updated++;
      }
      const haveTags = new Set((g.Tags ?? []).map((x) => `${x.Key}=${x.Value}`));
      if (asgTags.some((x) => !haveTags.has(`${x.Key}=${x.Value}`))) {
        await aws.asg.send(new CreateOrUpdateTagsCommand({ Tags: asgTags }));
        if (same) t.updated++;
      }
    }
    return `${sizes.join(", ")}: ${t}`;
  });

  const steps: (Step | StepGroup)[] = [
    checkAccess,
    parallel("Network and identity", [vpc, iamRoles, secrets, address, logGroup]),
    parallel("VPC resources, zone and kubeadm configuration", [
      subnets,
      gateway,
      securityGroups,
      zone,
      kubeadmConfig,
    ]),
    parallel("Routes and policies", [routes, policies]),
    parallel("DNS Lambda and launch templates", [dnsLambda, launchTemplates]),
    groups,
  ];
  if (!o.wait) return steps;

  const context = `aws-${o.name}`;
  info.context = context;
  let kubeconfigText = "";
  steps.push(
    mk(`Wait for ${n.apiHost}`, "read the masters' DNS record", async (ctx) => {
      const ips = await pollUntil(async () => {
        const rr = await aws.route53.send(
          new ListResourceRecordSetsCommand({
            HostedZoneId: s.zoneId,
            StartRecordName: `${n.apiHost}.`,
            StartRecordType: "A",
            MaxItems: 1,
          }),
        );
        const hit = rr.ResourceRecordSets?.find((r) =>
          r.Name === `${n.apiHost}.` && r.Type === "A"
        );
        ctx.progress(
          hit ? "found" : "no record yet (the DNS Lambda writes it when a master is InService)",
        );
        return hit?.ResourceRecords?.map((x) => x.Value!);
      }, {
        timeoutMs: o.timeoutMs,
        intervalMs: 2_000,
        maxIntervalMs: 15_000,
        describe: () =>
          `No A record ${n.apiHost} after ${
            Math.round(o.timeoutMs / 1000)
          }s: check the masters group's instances and the ${n.function} logs`,
      });
      return ips.join(", ");
    }),
    mk("Wait for the admin kubeconfig", "read the published kubeconfig", async (ctx) => {
      kubeconfigText = await pollUntil(async () => {
        try {
          const p = await aws.ssm.send(
            new GetParameterCommand({ Name: n.param.adminConf, WithDecryption: true }),
          );
          return p.Parameter?.Value;
        } catch (err) {
          if (awsErrorName(err) !== "ParameterNotFound") throw err;
          ctx.progress("the master has not published it yet (kubeadm init runs on first boot)");
          return undefined;
        }
      }, {
        timeoutMs: o.timeoutMs,
        intervalMs: 2_000,
        maxIntervalMs: 15_000,
        describe: () =>
          `The master did not publish ${n.param.adminConf} in time: read its console output (aws ec2 get-console-output) for kubeadm init errors`,
      });
      return n.param.adminConf;
    }),
    mk(
      `Wait for the API server and merge context ${context}`,
      "reach the API server",
      async (ctx) => {
        const entry = kubeEntryFrom(kubeconfigText, context, `https://${s.publicIp}:6443`);
        const ca = atob(entry.certificateAuthorityData ?? "");
        const client = Deno.createHttpClient({ caCerts: [ca] });
        try {
          await pollUntil(async () => {
            try {
              const res = await fetch(`${entry.server}/readyz`, {
                client,
                signal: AbortSignal.timeout(5_000),
              });
              const body = await res.text();
              ctx.progress(`/readyz: ${res.status} ${body.slice(0, 60)}`);
              return res.ok;
            } catch (err) {
              ctx.progress(`/readyz: ${err instanceof Error ? err.message : err}`);
              return false;
            }
          }, {
            timeoutMs: o.timeoutMs,
            intervalMs: 2_000,
            maxIntervalMs: 10_000,
            describe: () =>
              `The API server at ${entry.server} did not become ready: is ${o.apiCidr} (--api-cidr) your address?`,
          });
        } finally {
          client.close();
        }
        await mergeKubeEntry(o.kubeconfig, entry, true);
        info.server = entry.server;
        log.debug(`merged ${context} into ${o.kubeconfig}`);
        return `${entry.server} ready; ${o.kubeconfig} (current context)`;
      },
    ),
  );
  if (o.addons !== false) {
    steps.push(
      ...awsAddonSteps({
        kubeconfig: o.kubeconfig,
        context,
        clusterName: o.name,
        vpcCidr: n.vpcCidr,
        ca: () => ({ cert: s.caCert, key: s.caKey }),
        timeoutMs: o.timeoutMs,
      }),
    );
  }
  return steps;
}

function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(sortKeys(JSON.parse(a))) === JSON.stringify(sortKeys(JSON.parse(b)));
  } catch {
    return a === b;
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)).map((
        [k, x],
      ) => [k, sortKeys(x)]),
    );
  }
  return v;
}
